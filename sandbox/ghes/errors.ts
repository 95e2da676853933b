// `GhesApiError` is what a client sees on the wire (GitHub's "Basic Error" body, reference/github.md appendix); `GhesSimulatorError`
// is a mistake in how a test or the sandbox drives the simulator (or an unreadable JIT config) and never reaches a client.

const DOCS_URL = 'https://docs.github.com/enterprise-server@3.19/rest';
export const RATE_LIMIT_DOCS_URL = `${DOCS_URL}/using-the-rest-api/rate-limits-for-the-rest-api`;

/** `headers`: response headers the error carries (`retry-after`). */
type ApiErrorOptions = ErrorOptions & { readonly documentationUrl?: string; readonly headers?: Readonly<Record<string, string>> };

/** An error answered to an API client with `status` and a GitHub-shaped JSON body. */
export class GhesApiError extends Error {
  override readonly name = 'GhesApiError';
  readonly headers: Readonly<Record<string, string>>;

  constructor(readonly status: number, message: string, private readonly options: ApiErrorOptions = {}) {
    super(message, options);
    this.headers = options.headers ?? {};
  }

  /** The body GitHub sends: message, documentation_url and the status as a string. */
  body(): Record<string, unknown> {
    return { message: this.message, documentation_url: this.options.documentationUrl ?? DOCS_URL, status: String(this.status) };
  }
}

export const notFound = (message = 'Not Found'): GhesApiError => new GhesApiError(404, message);

/** GitHub's JSON-schema style 422 for a request body field. */
export const invalid = (detail: string): GhesApiError => new GhesApiError(422, `Invalid request.\n\n${detail}`);

export class GhesSimulatorError extends Error {
  override readonly name = 'GhesSimulatorError';
}
