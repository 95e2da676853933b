// Errors of the lifecycle function. Callers decide by class, never by message text.

/** An EventBridge event of a detail type we subscribe to lacks the fields EC2 sends. Retrying cannot help. */
export class LifecycleEventError extends Error {
  public readonly name = 'LifecycleEventError';

  constructor(message: string) {
    super(message);
  }
}

/**
 * Another writer changed the runner (or pool) item under every attempt to update it. Thrown so
 * that EventBridge's asynchronous invocation retries the event; every step is idempotent.
 */
export class LifecycleConflictError extends Error {
  public readonly name = 'LifecycleConflictError';

  constructor(readonly item: string, readonly attempts: number) {
    super(`${item} changed under each of ${attempts} attempts to update it; the event is retried`);
  }
}

/**
 * A spot instance is being reclaimed while its runner, idle a moment ago, has just taken a job that
 * no webhook has named yet. Thrown so the event is retried once the job is known, and marked for a re-run.
 */
export class InterruptedJobUnknownError extends Error {
  public readonly name = 'InterruptedJobUnknownError';

  constructor(readonly instanceId: string, readonly runnerName: string | undefined) {
    super(`the spot instance ${instanceId} (runner ${runnerName ?? 'unnamed'}) took a job just before its interruption warning, `
      + 'and no in_progress event has named the job yet; the event is retried');
  }
}
