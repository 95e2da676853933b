// The register function's answers and their Lambda result. The same result shape serves the
// Function URL (payload 2.0) and a REST API (v1) in front of the function.

/**
 * What the booting instance gets. The bootstrap acts on the status (200 run, 410 power off, anything
 * else retry until its config timeout), and on a 410's `action`: `park` for a warm pool instance's
 * first boot, which readies its disk before it powers off into `stopped`.
 */
export interface RegisterAnswer {
  readonly status: number;
  readonly contentType: 'text/plain' | 'application/json';
  readonly body: string;
}

export interface RegisterResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** What a 410 asks of the instance besides powering off; absent, nothing. */
export type RegisterAction = 'park';

/** Every non-200 answer is `{ message }` saying what happened and what the instance should do (and `action`, see RegisterAction). */
export function jsonAnswer(status: number, message: string, action?: RegisterAction): RegisterAnswer {
  return { status, contentType: 'application/json', body: JSON.stringify({ message, ...(action && { action }) }) };
}

/** The encoded JIT config, as the whole body: the bootstrap hands it to run.sh as it is. */
export function configAnswer(encodedJitConfig: string): RegisterAnswer {
  return { status: 200, contentType: 'text/plain', body: encodedJitConfig };
}

export function toLambdaResult(answer: RegisterAnswer): RegisterResult {
  // no-store: the answer holds a credential that must not sit in any cache on the way.
  return { statusCode: answer.status, headers: { 'content-type': answer.contentType, 'cache-control': 'no-store' }, body: answer.body };
}
