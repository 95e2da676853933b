// SQS errors as the JSON protocol carries them: `{"__type": "com.amazonaws.sqs#<Shape>", "message": …}`
// plus the query-compatible `x-amzn-query-error: <legacy code>;Sender` header, from which
// @aws-sdk/client-sqs (awsQueryCompatible) picks the modelled exception class and `Code`.
// Codes SQS does not model (InvalidParameterValue, MissingParameter) reach the SDK as a generic
// SQSServiceException whose `name` is the code.

export class SqsApiError extends Error {
  /** The legacy query-protocol code, e.g. `AWS.SimpleQueueService.NonExistentQueue`. */
  readonly queryCode: string;

  constructor(readonly code: string, message: string, readonly status = 400, queryCode?: string, readonly senderFault = true) {
    super(message);
    this.name = 'SqsApiError';
    this.queryCode = queryCode ?? code;
  }
}

export const sqsErrors = {
  queueDoesNotExist: () =>
    new SqsApiError('QueueDoesNotExist', 'The specified queue does not exist.', 400, 'AWS.SimpleQueueService.NonExistentQueue'),
  invalidAddress: (url: string) => new SqsApiError('InvalidAddress', `The address ${url} is not valid for this endpoint.`, 404),
  missingParameter: (name: string) => new SqsApiError('MissingParameter', `The request must contain the parameter ${name}.`),
  invalidParameterValue: (message: string) => new SqsApiError('InvalidParameterValue', message),
  /** The wording SQS uses for a parameter the queue's type does not take. */
  notValidForQueueType: (name: string, value: unknown) => new SqsApiError('InvalidParameterValue',
    `Value ${String(value)} for parameter ${name} is invalid. Reason: The request include parameter that is not valid for this queue type.`),
  outOfRange: (name: string, value: unknown, min: number, max: number) => new SqsApiError('InvalidParameterValue',
    `Value ${String(value)} for parameter ${name} is invalid. Reason: Must be between ${min} and ${max}, if provided.`),
  invalidMessageContents: (message: string) => new SqsApiError('InvalidMessageContents', message),
  receiptHandleIsInvalid: (handle: string, reason = 'is not a valid receipt handle') =>
    new SqsApiError('ReceiptHandleIsInvalid', `The input receipt handle "${handle}" ${reason}.`, 404),
  messageNotInflight: () =>
    new SqsApiError('MessageNotInflight', 'Message does not exist or is not available for visibility timeout change.', 400,
      'AWS.SimpleQueueService.MessageNotInflight'),
  emptyBatch: (name: string) => new SqsApiError('EmptyBatchRequest', `There should be at least one ${name} in the request.`, 400,
    'AWS.SimpleQueueService.EmptyBatchRequest'),
  tooManyEntries: (count: number) => new SqsApiError('TooManyEntriesInBatchRequest',
    `Maximum number of entries per request are 10. You have sent ${count}.`, 400, 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest'),
  batchEntryIdsNotDistinct: (id: string) => new SqsApiError('BatchEntryIdsNotDistinct', `Id ${id} repeated.`, 400,
    'AWS.SimpleQueueService.BatchEntryIdsNotDistinct'),
  invalidBatchEntryId: () => new SqsApiError('InvalidBatchEntryId',
    'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.', 400,
    'AWS.SimpleQueueService.InvalidBatchEntryId'),
  batchRequestTooLong: (limit: number) => new SqsApiError('BatchRequestTooLong',
    `Batch requests cannot be longer than ${limit} bytes.`, 400, 'AWS.SimpleQueueService.BatchRequestTooLong'),
  invalidAttributeName: (name: string) => new SqsApiError('InvalidAttributeName', `Unknown Attribute ${name}.`),
  unsupportedOperation: (target: string) => new SqsApiError('UnsupportedOperation',
    `The sandbox SQS stand-in does not implement ${target}.`, 400, 'AWS.SimpleQueueService.UnsupportedOperation'),
  /**
   * IAM refused the call: the query-compatible code `AccessDenied` (SQS's "Common Errors",
   * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html), HTTP 403.
   */
  accessDenied: (message: string) => new SqsApiError('AccessDenied', message, 403, 'AccessDenied'),
  /** For fault injection: the error SQS answers under load. */
  throttled: () => new SqsApiError('RequestThrottled', 'Request is throttled.', 403),
  internal: () => new SqsApiError('InternalError', 'We encountered an internal error. Please try again.', 500, 'InternalError', false),
};

/** A batch entry's failure, as SendMessageBatch and friends report it per entry. */
export interface BatchErrorEntry {
  readonly Id: string;
  readonly SenderFault: boolean;
  readonly Code: string;
  readonly Message: string;
}

export function batchErrorEntry(id: string, error: SqsApiError): BatchErrorEntry {
  return { Id: id, SenderFault: error.senderFault, Code: error.code, Message: error.message };
}
