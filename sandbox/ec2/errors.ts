// Errors of the EC2 simulator. `Ec2ApiError` is what a client sees on the wire (the EC2 error
// envelope, reference/aws.md 1.8); the others are mistakes in how a test or the sandbox drives the
// simulator programmatically and never reach a client.

/** A request-level EC2 error: rendered as `<Response><Errors><Error>…` with `status`. */
export class Ec2ApiError extends Error {
  constructor(readonly code: string, message: string, readonly status = 400, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Ec2ApiError';
  }
}

export const apiErrors = {
  missingParameter: (name: string) =>
    new Ec2ApiError('MissingParameter', `The request must contain the parameter ${name}`),
  invalidParameterValue: (message: string) => new Ec2ApiError('InvalidParameterValue', message),
  invalidParameterCombination: (message: string) => new Ec2ApiError('InvalidParameterCombination', message),
  unsupported: (message: string) => new Ec2ApiError('Unsupported', message),
  invalidAction: (action: string) =>
    new Ec2ApiError('InvalidAction', `The action ${action} is not valid for this web service.`),
  /**
   * IAM refused the call: HTTP 403 with IAM's wording and an opaque encoded message
   * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html, UnauthorizedOperation;
   * karpenter-provider-aws#2813 shows the full text).
   */
  unauthorizedOperation: (reason: string, requestId: string) => new Ec2ApiError('UnauthorizedOperation', unauthorizedMessage(reason, requestId), 403),
  dryRun: () => new Ec2ApiError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412),
  /** 503, as observed for CreateFleet (reference/aws.md 1.7). */
  requestLimitExceeded: (accountId: string, action: string) =>
    new Ec2ApiError(
      'RequestLimitExceeded',
      `Request limit exceeded. Account ${accountId} has been throttled on ec2:${action} because it exceeded its request rate limit.`,
      503,
    ),
  instanceIdMalformed: (id: string) =>
    new Ec2ApiError('InvalidInstanceID.Malformed', `Invalid id: "${id}" (expecting "i-...")`),
  instanceIdNotFound: (ids: readonly string[]) =>
    new Ec2ApiError(
      'InvalidInstanceID.NotFound',
      ids.length === 1
        ? `The instance ID '${ids[0]}' does not exist`
        : `The instance IDs '${ids.join(', ')}' do not exist`,
    ),
  idempotentParameterMismatch: () =>
    new Ec2ApiError(
      'IdempotentParameterMismatch',
      'Arguments on this idempotent request are inconsistent with arguments used in previous request(s).',
    ),
  internal: (cause: unknown) =>
    new Ec2ApiError('InternalError', 'An internal error has occurred', 500, { cause }),
};

/** The simulator was asked about an instance it never launched (or forgot after the visibility window). */
export class UnknownInstanceError extends Error {
  constructor(readonly instanceId: string) {
    super(`no instance ${instanceId} in the EC2 simulator; launch it with CreateFleet first`);
    this.name = 'UnknownInstanceError';
  }
}

/** A programmatic action that the instance's current state does not allow. */
export class InvalidInstanceStateError extends Error {
  constructor(readonly instanceId: string, readonly state: string, readonly action: string) {
    super(`cannot ${action} instance ${instanceId} in state ${state}`);
    this.name = 'InvalidInstanceStateError';
  }
}

/** Spot-only actions on an on-demand instance. */
export class NotSpotInstanceError extends Error {
  constructor(readonly instanceId: string) {
    super(`instance ${instanceId} is on-demand; only spot instances can be interrupted`);
    this.name = 'NotSpotInstanceError';
  }
}

/** The simulator's own configuration or a launch template registration is inconsistent. */
export class Ec2SimulatorConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Ec2SimulatorConfigError';
  }
}

/** EC2's UnauthorizedOperation text: the fixed sentence, IAM's reason, and the encoded message `sts decode-authorization-message` would read. */
export function unauthorizedMessage(reason: string, seed: string): string {
  const encoded = Buffer.from(`sandbox:${seed}:${reason}`).toString('base64').replace(/=+$/, '');
  return `You are not authorized to perform this operation. ${reason}. Encoded authorization failure message: ${encoded}`;
}
