// The HTTP edge of the webhook: the API Gateway HTTP API (payload format 2.0) event in, a
// {status, body} answer out. Header names are compared lower-case, whatever the event carries.

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { WebhookAnswer } from '../core/delivery';

export interface WebhookRequest {
  readonly method?: string;
  /** Header values by lower-case name. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly isBase64Encoded: boolean;
}

export function fromApiGatewayV2(event: APIGatewayProxyEventV2): WebhookRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  return {
    method: event.requestContext?.http?.method,
    headers,
    body: event.body,
    isBase64Encoded: event.isBase64Encoded === true,
  };
}

export function toApiGatewayResult(answer: WebhookAnswer): APIGatewayProxyStructuredResultV2 {
  return { statusCode: answer.status, headers: { 'content-type': 'application/json' }, body: answer.body };
}

/** A JSON answer. Every non-2xx answer is `{ message }` saying what was wrong and what to do. */
export function jsonAnswer(status: number, message: string, details: Record<string, unknown> = {}): WebhookAnswer {
  return { status, body: JSON.stringify({ message, ...details }) };
}

/** The body's size in bytes, computed without decoding it (the size check comes before anything expensive). */
export function bodyByteLength(request: WebhookRequest): number {
  const body = request.body ?? '';
  if (!request.isBase64Encoded) return Buffer.byteLength(body, 'utf8');
  const padding = body.endsWith('==') ? 2 : body.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((body.length * 3) / 4) - padding);
}

/** The raw body as text: GitHub signs the UTF-8 bytes it sends, and the signature check needs exactly those. */
export function rawBody(request: WebhookRequest): string {
  const body = request.body ?? '';
  return request.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
}

export function header(request: WebhookRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return value === undefined || value === '' ? undefined : value;
}
