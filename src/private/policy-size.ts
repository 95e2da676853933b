// Statements packed into managed policies by their size once deployed, so that where each
// statement goes is decided by the statements alone.
//
// IAM counts a policy's characters without whitespace: a role's inline policies together may hold
// 10,240, one managed policy 6,144, and a role may have 10 managed policies attached (20 on request)
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html). CDK moves what
// does not fit a role's default policy into overflow managed policies by an estimate that counts
// the characters of unresolved tokens, whose names grow with the number of tokens an app has made:
// the same statements then land in different policies from one synth to the next.
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

/** The most characters a managed policy may hold. */
export const MANAGED_POLICY_SIZE_LIMIT = 6_144;

// The longest value each reference can take once deployed.
const PSEUDO_PARAMETER_SIZE: Record<string, number> = {
  'AWS::Partition': 'aws-iso-b'.length + 1,
  'AWS::Region': 'ap-southeast-5'.length + 2,
  'AWS::AccountId': 12,
  'AWS::URLSuffix': 'amazonaws.com.cn'.length,
};
// A resource's physical id (a launch template, subnet or security group id; a role name is at most 64).
const REF_SIZE = 64;
// A resource's ARN: an IAM role's, with its path, is the longest the grants name.
const ATTRIBUTE_SIZE = 256;

/** The characters IAM counts for `statements`, at most, once their references are resolved. */
export function deployedSize(scope: IConstruct, statements: iam.PolicyStatement[]): number {
  const resolved = Stack.of(scope).resolve({ Version: '2012-10-17', Statement: statements.map((s) => s.toStatementJson()) });
  return JSON.stringify(substitute(resolved)).length;
}

function substitute(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(substitute);
  if (typeof value !== 'object' || value === null) return value;
  const v = value as Record<string, unknown>;
  if (typeof v.Ref === 'string') return 'x'.repeat(PSEUDO_PARAMETER_SIZE[v.Ref] ?? REF_SIZE);
  if ('Fn::GetAtt' in v) return 'x'.repeat(ATTRIBUTE_SIZE);
  if ('Fn::Join' in v) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => {
      const s = substitute(part);
      return typeof s === 'string' ? s : JSON.stringify(s);
    }).join(separator);
  }
  return Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, substitute(inner)]));
}

/**
 * Groups `statements`, in order, into as few lists as fit a managed policy each. A statement too
 * large for a policy of its own is an error: no split can deploy it.
 */
export function packStatements(scope: IConstruct, statements: iam.PolicyStatement[]): iam.PolicyStatement[][] {
  const groups: iam.PolicyStatement[][] = [];
  for (const statement of statements) {
    const last = groups[groups.length - 1];
    if (last && deployedSize(scope, [...last, statement]) <= MANAGED_POLICY_SIZE_LIMIT) {
      last.push(statement);
      continue;
    }
    const alone = deployedSize(scope, [statement]);
    if (alone > MANAGED_POLICY_SIZE_LIMIT) {
      throw new Error(`A statement of ${alone} characters (${statement.actions.join(', ')}) does not fit a managed policy (${MANAGED_POLICY_SIZE_LIMIT}); `
        + 'fewer runner configs or subnets make it smaller.');
    }
    groups.push([statement]);
  }
  return groups;
}
