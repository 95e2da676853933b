// What the construct's custom resources share: how long CloudFormation waits for an answer, and the
// one CloudFormation call their functions make to tell the stack's deletion from a Delete of the
// resource alone (an update that leaves it out, a rollback).
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

/** Should no answer come (a function that never ran), the deploy fails after minutes, not CloudFormation's hour. */
export const CUSTOM_RESOURCE_SERVICE_TIMEOUT = Duration.minutes(5);

/** DescribeStacks on this stack only, by its ARN (AWS::StackId): the functions ask by the StackId of the request. */
export function grantDescribeOwnStack(scope: IConstruct, grantee: iam.IGrantable): void {
  grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['cloudformation:DescribeStacks'],
    resources: [Stack.of(scope).stackId],
  }));
}
