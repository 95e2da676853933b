// Writing responses and reading JSON bodies, shared by the public API and the runner service.
import { IncomingMessage, ServerResponse } from 'http';
import { BadRequestError } from './errors';
import { readBody } from '../common/http';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  if (res.writableEnded || res.destroyed) return;
  if (status === 204 || body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/** Reads the whole body; `parse` then gives the JSON object (empty body: `{}`) or GitHub's 400. */
export async function readJsonBody(req: IncomingMessage): Promise<{ parse(): Record<string, unknown> }> {
  const raw = (await readBody(req, 1024 * 1024)).toString('utf8');
  return {
    parse: () => {
      if (raw.trim() === '') return {};
      try {
        const value: unknown = JSON.parse(raw);
        return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
      } catch {
        throw new BadRequestError('Problems parsing JSON');
      }
    },
  };
}
