// How long the webhook may take to answer a delivery, per kind of GitHub host: one table used by the
// construct (the function's timeout) and by the runtime (its deadline and its AWS clients' timeouts).
// GitHub records a delivery not answered in time as failed and never retries it; the reconciler
// redelivers failed deliveries, minutes later.

/** The webhook's time budget for one kind of GitHub host. */
export interface WebhookTimeBudget {
  /** Which hosts it is for. */
  readonly hostKind: 'github.com' | 'ghes';
  /** How long GitHub waits for the answer before it closes the connection and records a failure. */
  readonly githubWaitSeconds: number;
  /** Where GitHub says so. */
  readonly source: string;
  /**
   * The function's timeout. A cold start's init phase (in a VPC too: minutes-old Hyperplane ENIs,
   * module load) is not counted in it, and the network and API Gateway add their part: the timeout
   * leaves about three seconds of the host's wait for those.
   */
  readonly functionTimeoutSeconds: number;
  /**
   * The handler stops waiting and answers 503 when this little is left before the function's
   * timeout: time to return through API Gateway before GitHub gives up. A 503 is a failed delivery
   * GitHub lists, which the reconciler redelivers; nothing half-done stays behind (the delivery is
   * recorded last, after every side effect, all of them idempotent).
   */
  readonly answerMarginMs: number;
  /**
   * Socket timeouts and attempts of the function's AWS clients (SSM, DynamoDB, SQS): a stalled call
   * is abandoned and retried within the budget instead of eating all of it.
   */
  readonly awsRequestTimeoutMs: number;
  readonly awsConnectionTimeoutMs: number;
  readonly awsMaxAttempts: number;
}

/**
 * github.com and GHE.com (GitHub Enterprise Cloud with data residency) wait 10 s ("Respond within 10
 * seconds"); GitHub Enterprise Server waits 30 s. API Gateway caps an integration at 30 s (HTTP API)
 * or 29 s (REST API) anyway.
 */
export const WEBHOOK_TIME_BUDGETS: Readonly<Record<WebhookTimeBudget['hostKind'], WebhookTimeBudget>> = {
  'github.com': {
    hostKind: 'github.com',
    githubWaitSeconds: 10,
    source: 'https://docs.github.com/en/webhooks/using-webhooks/best-practices-for-using-webhooks#respond-within-10-seconds',
    functionTimeoutSeconds: 7,
    answerMarginMs: 1_500,
    awsRequestTimeoutMs: 1_500,
    awsConnectionTimeoutMs: 1_000,
    awsMaxAttempts: 3,
  },
  'ghes': {
    hostKind: 'ghes',
    githubWaitSeconds: 30,
    source: 'https://docs.github.com/en/enterprise-server@3.19/webhooks/using-webhooks/best-practices-for-using-webhooks#respond-within-30-seconds',
    functionTimeoutSeconds: 25,
    answerMarginMs: 3_000,
    awsRequestTimeoutMs: 5_000,
    awsConnectionTimeoutMs: 2_000,
    awsMaxAttempts: 3,
  },
};

/** The budget for the GitHub server of this hostname (as in `github.url`, any case). */
export function webhookTimeBudget(githubHost: string): WebhookTimeBudget {
  const host = githubHost.toLowerCase();
  const cloud = host === 'github.com' || host.endsWith('.ghe.com');
  return WEBHOOK_TIME_BUDGETS[cloud ? 'github.com' : 'ghes'];
}
