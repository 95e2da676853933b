// SSM errors as the JSON 1.1 protocol carries them: HTTP 400 with `{"__type": code, "message": …}`
// (reference/aws.md 8.3).

export class SsmApiError extends Error {
  /** What goes into the body's `message`; undefined sends only `__type`, as SSM does for ParameterNotFound. */
  readonly bodyMessage?: string;

  constructor(readonly code: string, message?: string, readonly status = 400) {
    super(message ?? code);
    this.name = 'SsmApiError';
    this.bodyMessage = message;
  }
}

export const ssmErrors = {
  validation: (message: string) => new SsmApiError('ValidationException', message),
  // Commonly returned with no message at all (reference/aws.md 8.3).
  notFound: () => new SsmApiError('ParameterNotFound'),
  versionNotFound: (name: string, selector: string) =>
    new SsmApiError('ParameterVersionNotFound', `Systems Manager could not find version ${selector} of ${name}. Verify the version and try again.`),
  alreadyExists: () =>
    new SsmApiError('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.'),
  hierarchyTooDeep: () =>
    new SsmApiError('HierarchyLevelLimitExceededException', 'A hierarchy can have a maximum of 15 levels. For more information, see Requirements and Constraints for Parameter Names in the AWS Systems Manager User Guide.'),
  patternMismatch: (pattern: string) =>
    new SsmApiError('ParameterPatternMismatchException', `Parameter value, cannot be validated against allowedPattern: ${pattern}`),
  throttled: () => new SsmApiError('ThrottlingException', 'Rate exceeded'),
  /** IAM refused the call (JSON 1.1: HTTP 400, `AccessDeniedException`, IAM's wording). */
  accessDenied: (message: string) => new SsmApiError('AccessDeniedException', message),
  invalidNextToken: () => new SsmApiError('InvalidNextToken', "The specified token isn't valid."),
  unknownOperation: (target: string) => new SsmApiError('UnknownOperationException', `Unknown operation ${target}`),
  serialization: (message: string) => new SsmApiError('SerializationException', message),
  internal: () => new SsmApiError('InternalServerError', 'An internal error occurred.', 500),
};
