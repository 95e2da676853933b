// The register function's answers and their Lambda result. The same result shape serves the
// Function URL (payload 2.0) and a REST API (v1) in front of the function.

/** What the booting instance gets; the bootstrap acts on the status alone (200 run, 410 power off, anything else retry until its config timeout). */
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

/** Every non-200 answer is `{ message }` saying what happened and what the instance should do. */
export function jsonAnswer(status: number, message: string): RegisterAnswer {
  return { status, contentType: 'application/json', body: JSON.stringify({ message }) };
}

/** The encoded JIT config, as the whole body: the bootstrap hands it to run.sh as it is. */
export function configAnswer(encodedJitConfig: string): RegisterAnswer {
  return { status: 200, contentType: 'text/plain', body: encodedJitConfig };
}

export function toLambdaResult(answer: RegisterAnswer): RegisterResult {
  // no-store: the answer holds a credential that must not sit in any cache on the way.
  return { statusCode: answer.status, headers: { 'content-type': answer.contentType, 'cache-control': 'no-store' }, body: answer.body };
}
