// Errors of the webhook's input: each becomes a 4xx answer whose message says what was wrong.

/** The delivery's payload lacks a field the webhook needs, or has it in the wrong shape (400). */
export class PayloadError extends Error {
  public readonly name = 'PayloadError';

  /** @param field the payload path, e.g. `workflow_job.labels` */
  constructor(readonly field: string | undefined, message: string) {
    super(message);
  }
}

/** The delivery's content type is neither JSON nor form-encoded (415). */
export class UnsupportedContentTypeError extends Error {
  public readonly name = 'UnsupportedContentTypeError';

  constructor(readonly contentType: string) {
    super(`content type ${contentType} is not supported: set the webhook's content type to application/json`);
  }
}
