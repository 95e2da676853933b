// Errors of the GHES simulator. `GhesApiError` and its subclasses are what a client sees on the wire
// (GitHub's "Basic Error" body, reference/github.md appendix); the others are mistakes in how a test
// or the sandbox drives the simulator, or failures of the simulated runner, and never reach a client.

export const DOCS_URL = 'https://docs.github.com/enterprise-server@3.19/rest';
export const RATE_LIMIT_DOCS_URL = `${DOCS_URL}/using-the-rest-api/rate-limits-for-the-rest-api`;

export interface ApiErrorOptions {
  readonly documentationUrl?: string;
  /** Response headers the error carries (rate-limit headers, `retry-after`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** `errors` of a validation failure: strings for "Validation Error Simple", objects otherwise. */
  readonly errors?: readonly unknown[];
  readonly cause?: unknown;
}

/** An error answered to an API client with `status` and a GitHub-shaped JSON body. */
export class GhesApiError extends Error {
  readonly documentationUrl: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly errors?: readonly unknown[];

  constructor(readonly status: number, message: string, options: ApiErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'GhesApiError';
    this.documentationUrl = options.documentationUrl ?? DOCS_URL;
    this.headers = options.headers ?? {};
    this.errors = options.errors;
  }

  /** The body GitHub sends: message, documentation_url, the status as a string, and errors if any. */
  body(): Record<string, unknown> {
    return {
      message: this.message,
      documentation_url: this.documentationUrl,
      status: String(this.status),
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

export class UnauthorizedError extends GhesApiError {
  constructor(message: string) {
    super(401, message);
    this.name = 'UnauthorizedError';
  }
}

export class ForbiddenError extends GhesApiError {
  constructor(message: string) {
    super(403, message);
    this.name = 'ForbiddenError';
  }
}

export class NotFoundError extends GhesApiError {
  constructor(message = 'Not Found') {
    super(404, message);
    this.name = 'NotFoundError';
  }
}

export class BadRequestError extends GhesApiError {
  constructor(message: string) {
    super(400, message);
    this.name = 'BadRequestError';
  }
}

export class ConflictError extends GhesApiError {
  constructor(message: string) {
    super(409, message);
    this.name = 'ConflictError';
  }
}

/** 422. With string `errors` it is the spec's "Validation Error Simple", with objects "Validation Error". */
export class ValidationError extends GhesApiError {
  constructor(message: string, errors?: readonly unknown[]) {
    super(422, message, { errors });
    this.name = 'ValidationError';
  }
}

/** 422 from DELETE …/runners/{id} while the runner runs a job (reference/github.md 4). */
export class RunnerBusyError extends GhesApiError {
  constructor(readonly runnerName: string) {
    super(422, `Bad request - Runner "${runnerName}" is still running a job`);
    this.name = 'RunnerBusyError';
  }
}

/** Primary rate limit: 403 or 429 with `x-ratelimit-remaining: 0` (reference/github.md 7). */
export class PrimaryRateLimitError extends GhesApiError {
  constructor(status: 403 | 429, subject: string, headers: Record<string, string>) {
    super(status, `API rate limit exceeded for ${subject}.`, { documentationUrl: RATE_LIMIT_DOCS_URL, headers });
    this.name = 'PrimaryRateLimitError';
  }
}

/** Secondary rate limit: the message must contain "secondary rate" for @octokit/plugin-throttling. */
export class SecondaryRateLimitError extends GhesApiError {
  constructor(status: 403 | 429, requestId: string, headers: Record<string, string>) {
    super(
      status,
      'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. ' +
        `If you reach out to GitHub Support for help, please include the request ID ${requestId}.`,
      { documentationUrl: RATE_LIMIT_DOCS_URL, headers },
    );
    this.name = 'SecondaryRateLimitError';
  }
}

/** A 5xx injected by the fault settings. */
export class InjectedServerError extends GhesApiError {
  constructor(status: number) {
    super(status, status === 503 ? 'Service Unavailable' : 'Server Error');
    this.name = 'InjectedServerError';
  }
}

/** The simulator was driven with something it does not know or cannot do (never reaches a client). */
export class GhesSimulatorError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GhesSimulatorError';
  }
}

/** The simulated runner was given a JIT config it cannot decode. */
export class JitConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JitConfigError';
  }
}

/** The simulated runner got an answer from the runner service it cannot go on from. */
export class RunnerProtocolError extends Error {
  constructor(readonly status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RunnerProtocolError';
  }
}
