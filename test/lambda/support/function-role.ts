// A control-plane function's execution role for the runtime tests: its statements (from
// ./construct-grants.ts: what the construct grants it) decided by the sandbox's IAM engine for
// every call the function's real SDK clients make to DynamoDB (dynalite behind the IAM proxy) and
// to the SSM, SQS and EC2 simulators, with the service's own access-denied error, as in AWS.
import type { CallerIdentity } from '../../../sandbox/aws/function-url';
import type { Ec2Authorizer } from '../../../sandbox/ec2';
import { IamAuthorizer } from '../../../sandbox/iam/authorizer';
import { ec2Authorizer, rolesWithPolicies, serviceAuthorizer } from '../../../sandbox/iam/services';

export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';

type SimulatorAuthorize = (operation: string, input: Record<string, unknown>, authorization: string | undefined) => Promise<string | undefined>;

export class FunctionRole {
  readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  readonly identity: CallerIdentity;
  private readonly statements = new Map<string, unknown>();
  private removed: readonly string[] = [];
  private built?: IamAuthorizer;

  /**
   * `policyFor`: the role's statements for a state table (its other statements too). `roleName`:
   * two roles in one test (two deployments in one account) need two names, hence two access keys.
   */
  constructor(private readonly policyFor: (tableArn: string) => unknown[], readonly roleName = 'FunctionRole') {
    const key = roleName.toUpperCase().replace(/[^A-Z0-9]/g, '');
    this.credentials = { accessKeyId: `ASIA${key}`, secretAccessKey: 'role-secret', sessionToken: 'role-token' };
    this.identity = { accountId: ACCOUNT, roleName, roleId: `AROA${key}0001`, sessionName: 'function', ...this.credentials };
  }

  /** The role session behind an access key; undefined for any other key (the test's own, unchecked, or another role's). */
  readonly identityFor = (accessKeyId: string): CallerIdentity | undefined =>
    (accessKeyId === this.credentials.accessKeyId ? this.identity : undefined);

  /** Grants the role what the construct grants on a state table (the role's other statements come with the first). */
  grantTable(tableArn: string): void {
    for (const statement of this.policyFor(tableArn)) this.statements.set(JSON.stringify(statement), statement);
    this.built = undefined;
  }

  /** One authorizer for every service, rebuilt only when the role's statements change. */
  authorizer(): IamAuthorizer {
    return (this.built ??= new IamAuthorizer({
      accountId: ACCOUNT,
      roles: rolesWithPolicies({ [this.roleName]: [...this.statements.values()] }),
      removals: this.removed.map((action) => ({ role: this.roleName, action })),
    }));
  }

  /** The `authorize` hook of a JSON-protocol simulator (or the DynamoDB proxy) for `service`. */
  serviceAuthorizer(service: 'dynamodb' | 'ssm' | 'sqs' | 'cloudformation'): SimulatorAuthorize {
    const context = { region: REGION, accountId: ACCOUNT };
    return serviceAuthorizer(service, { authorizer: () => this.authorizer(), context, identityFor: this.identityFor });
  }

  /** The EC2 simulator's `authorize` hook. */
  ec2Authorizer(): Ec2Authorizer {
    return ec2Authorizer({
      authorizer: () => this.authorizer(),
      context: { region: REGION, accountId: ACCOUNT },
      identityFor: this.identityFor,
      account: { hasSpotServiceLinkedRole: true },
    });
  }

  /** The credential variables Lambda gives the function. */
  environment(): Record<string, string> {
    const { accessKeyId, secretAccessKey, sessionToken } = this.credentials;
    return { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken };
  }

  /** Runs `body` with `actions` taken out of every statement of the role, as if the construct did not grant them. */
  async without<T>(actions: readonly string[], body: () => Promise<T>): Promise<T> {
    this.removed = actions;
    this.built = undefined;
    try {
      return await body();
    } finally {
      this.removed = [];
      this.built = undefined;
    }
  }
}

