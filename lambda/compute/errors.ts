// Errors of the EC2 adapter. Callers decide by class and `kind`, never by message text.
import { LaunchErrorKind } from '../core/compute';

/** CreateFleet failed as a whole (a request-level error), so nothing launched. */
export class LaunchFailedError extends Error {
  public readonly name = 'LaunchFailedError';

  constructor(readonly code: string, readonly kind: LaunchErrorKind, message: string, options?: ErrorOptions) {
    super(`CreateFleet failed with ${code} (${kind}): ${message}`, options);
  }
}
