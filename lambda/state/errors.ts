// Errors of the DynamoDB state adapter.

/** An item in the table does not have the shape this code writes: someone edited it, or a newer version wrote it. */
export class StateItemError extends Error {
  public readonly name = 'StateItemError';

  constructor(message: string) {
    super(message);
  }
}
