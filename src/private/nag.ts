// cdk-nag acknowledgements, each with the reason it is sound.
import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Records acknowledged findings on `scope`, keyed by their full finding id. Ids that name a
 * tokenized ARN (`<AWS::Partition>`) hold a `::` that `Validations.acknowledge` refuses, so the
 * acknowledgements go under the same metadata key that method writes.
 */
export function acknowledgeFindings(scope: IConstruct, findings: Record<string, string>): void {
  scope.node.addMetadata(Validations.ACKNOWLEDGED_RULES_METADATA_KEY, findings);
}

/** The finding id of an AWS managed policy attached to a role (AwsSolutions-IAM4). */
export function managedPolicyFinding(policyName: string): string {
  return `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${policyName}]`;
}

/** Acknowledges cdk-nag's wildcard findings (AwsSolutions-IAM5) one by one, each with the reason it is needed. */
export function acknowledgeWildcards(scope: IConstruct, findings: Array<[string, string]>): void {
  acknowledgeFindings(scope, Object.fromEntries(findings.map(([finding, reason]) => [`AwsSolutions-IAM5[${finding}]`, reason])));
}
