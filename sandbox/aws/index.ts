// The in-process AWS stand-ins the sandbox puts between the real handlers: SQS (with Lambda event
// source mappings), API Gateway HTTP API, EventBridge, and the Function URL with AWS_IAM auth.
export * from './sqs';
export * from './api-gateway';
export * from './eventbridge';
export * from './function-url';
