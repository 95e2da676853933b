// Shared by the AWS stand-in tests: waiting for asynchronous deliveries in real time.

/** Resolves once `condition` holds, checking every few milliseconds; fails after `timeoutMs` of real time. */
// Generous: CI machines are shared; a wait ends as soon as its condition holds.
export async function waitFor(condition: () => boolean, timeoutMs = 15_000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Waits `ms` of real time. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The error a call that must fail threw; fails the test when it succeeded. */
export async function errorOf<E = Error>(promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (error) {
    return error as E;
  }
  throw new Error('expected the call to fail');
}
