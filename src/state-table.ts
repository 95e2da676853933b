// The control plane's single DynamoDB table: deliveries, jobs, runners and pools (DESIGN.md section 4).
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

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
 * that expires finished items. The sparse `byPool` index lists the active jobs and runners of a
 * pool by state.
 */
export class StateTable extends Construct {
  /** Name of the index of active items by pool. */
  static readonly POOL_INDEX = 'byPool';
  /** Name of the TTL attribute (epoch seconds). */
  static readonly TTL_ATTRIBUTE = 'expiresAt';

  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: StateTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: StateTable.TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: StateTable.POOL_INDEX,
      partitionKey: { name: 'poolId', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'poolSort', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }
}
