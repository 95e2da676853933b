// What every CloudFormation custom resource of the construct shares: the request and the answer as
// CloudFormation sends and reads them, the answer's PUT to the presigned URL, whether the stack
// itself is being deleted, and the answer when a handler failed before it could give its own.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requests.html
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { Logger } from './logger';

/** The request CloudFormation sends (the fields used here). */
export interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
}

/** The response CloudFormation reads from the presigned URL. */
export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly Data?: Readonly<Record<string, string>>;
}

/** Whether the stack itself is being deleted, asked by its id (DescribeStacks: `DELETE_IN_PROGRESS`). */
export type StackBeingDeleted = (stackId: string) => Promise<boolean>;

/**
 * A Delete request comes at the stack's deletion, but also when the resource leaves the template,
 * is replaced, or a failed deploy rolls back: only the stack's status tells them apart.
 */
export function stackBeingDeleted(cloudformation: CloudFormationClient): StackBeingDeleted {
  return async (stackId) =>
    (await cloudformation.send(new DescribeStacksCommand({ StackName: stackId }))).Stacks?.[0]?.StackStatus === 'DELETE_IN_PROGRESS';
}

/** CloudFormation reads the answer from a presigned S3 URL: a PUT with an empty content type. */
export async function respondToCloudFormation(url: string, response: CustomResourceResponse): Promise<void> {
  const body = JSON.stringify(response);
  for (let attempt = 1; ; attempt++) {
    const answer = await fetch(url, { method: 'PUT', headers: { 'content-type': '' }, body }).catch((e: Error) => e);
    if (!(answer instanceof Error) && answer.ok) return;
    if (attempt === 5) throw new Error(`CloudFormation's response URL refused the answer: ${answer instanceof Error ? answer.message : answer.status}`);
    await new Promise((resolve) => setTimeout(resolve, attempt * 1000));
  }
}

/**
 * Whatever failed before the handler answered (its environment, the answer itself): CloudFormation
 * must not wait for an answer. A Delete succeeds, so a function that cannot run never holds up a
 * stack's deletion or a rollback; what it left undone is in the log.
 */
export async function answerAfterFailure(event: CustomResourceEvent, physicalResourceId: string, error: unknown, logger: Logger): Promise<void> {
  logger.error('custom resource request failed', { requestType: event.RequestType, error: String(error) });
  const { StackId, RequestId, LogicalResourceId, PhysicalResourceId } = event;
  await respondToCloudFormation(event.ResponseURL, {
    Status: event.RequestType === 'Delete' ? 'SUCCESS' : 'FAILED',
    Reason: String(error).slice(0, 500),
    PhysicalResourceId: PhysicalResourceId ?? physicalResourceId,
    StackId,
    RequestId,
    LogicalResourceId,
  }).catch(() => undefined);
}
