// The control plane's single DynamoDB table: deliveries, jobs, runners and pools (DESIGN.md section 4).
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { PARTITION_KEY, POOL_INDEX, SORT_KEY, TTL_ATTRIBUTE } from '../contracts/state-table';

/** What a function may do with the state table beyond reading and conditionally writing items. */
export interface StateAccessOptions {
  /** Scan the pool index, for every active pool (the reconciler). @default false */
  readonly scanIndex?: boolean;
  /** Read several items in one BatchGetItem (the provisioner's reconcile, for launches not yet in the index; the register endpoint, re-reading a pool's idle runners). @default false */
  readonly batchGet?: boolean;
}

/** The state table as its functions' grants see it. */
export interface IStateTable {
  readonly tableArn: string;
  /** Read and conditionally write items, and query the pool index. */
  grantStateAccess(grantee: iam.IGrantable, options?: StateAccessOptions): void;
  /** Read and conditionally write items only (the webhook: it never queries the pool index). */
  grantItemAccess(grantee: iam.IGrantable): void;
}

abstract class StateTableBase extends Construct implements IStateTable {
  abstract readonly tableArn: string;

  grantStateAccess(grantee: iam.IGrantable, options: StateAccessOptions = {}): void {
    this.grantItems(grantee, options.batchGet ? ['dynamodb:BatchGetItem'] : []);
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['dynamodb:Query', ...(options.scanIndex ? ['dynamodb:Scan'] : [])],
      resources: [`${this.tableArn}/index/${POOL_INDEX.name}`],
    }));
  }

  grantItemAccess(grantee: iam.IGrantable): void {
    this.grantItems(grantee, []);
  }

  private grantItems(grantee: iam.IGrantable, extra: string[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', ...extra],
      resources: [this.tableArn],
    }));
  }
}

/** Props of {@link StateTable}. */
export interface StateTableProps {
  /**
   * What happens to the table when the stack is deleted.
   *
   * @default RemovalPolicy.DESTROY - the table holds transient control-plane state only
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * One table, on-demand billing (nothing billed while idle), point-in-time recovery, and a TTL
 * that expires finished items. The sparse pool index lists the active jobs and runners of a pool
 * by state. Grants are written out rather than `Table.grantReadWriteData`, which also allows
 * deletes, scans and batch writes that no function makes.
 */
export class StateTable extends StateTableBase {
  /** A table of another deployment, or of a test, known by its ARN: grants only. */
  static fromTableArn(scope: Construct, id: string, tableArn: string): IStateTable {
    return new (class extends StateTableBase {
      readonly tableArn = tableArn;
    })(scope, id);
  }

  readonly table: dynamodb.Table;
  readonly tableArn: string;

  constructor(scope: Construct, id: string, props: StateTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: SORT_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: POOL_INDEX.name,
      partitionKey: { name: POOL_INDEX.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: POOL_INDEX.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    this.tableArn = this.table.tableArn;
  }

  get tableName(): string {
    return this.table.tableName;
  }
}
