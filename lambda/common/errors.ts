// Errors of the functions' plumbing (environment, wiring), as opposed to the domain's.

/** Required environment variables are missing or invalid: the function was deployed wrong. */
export class EnvironmentError extends Error {
  public readonly name = 'EnvironmentError';

  constructor(message: string, readonly variables: readonly string[]) {
    super(message);
  }
}
