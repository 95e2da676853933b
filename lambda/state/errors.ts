// Errors of the DynamoDB state adapter.

/** An item in the table does not have the shape this code writes: someone edited it, or a newer version wrote it. */
export class StateItemError extends Error {
  public readonly name = 'StateItemError';

  constructor(message: string) {
    super(message);
  }
}

/** DynamoDB kept leaving part of a batch read unprocessed; the caller retries the whole step. */
export class StateReadIncompleteError extends Error {
  public readonly name = 'StateReadIncompleteError';

  constructor(public readonly unprocessed: number) {
    super(`DynamoDB left ${unprocessed} keys of a batch read unprocessed after several attempts`);
  }
}
