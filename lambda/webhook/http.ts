// The HTTP edge of the webhook: an API Gateway event in — the HTTP API's (payload format 2.0) or,
// behind the private REST API, a v1 proxy event — and a {status, body} answer out. Header names are
// compared lower-case: payload 2.0 lower-cases them, v1 keeps them as sent.

import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult } from 'aws-lambda';
import { WebhookAnswer } from '../core/delivery';

export interface WebhookRequest {
  readonly method?: string;
  /** Header values by lower-case name. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly isBase64Encoded: boolean;
}

/** Either event shape a webhook request comes in. */
export type WebhookEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent;

export function fromApiGatewayEvent(event: WebhookEvent): WebhookRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined && value !== null) headers[name.toLowerCase()] = value;
  }
  const v2Method = (event as APIGatewayProxyEventV2).requestContext?.http?.method;
  return {
    method: v2Method ?? (event as APIGatewayProxyEvent).httpMethod ?? undefined,
    headers,
    body: event.body ?? undefined,
    isBase64Encoded: event.isBase64Encoded === true,
  };
}

/** Both APIs take the same result: status, headers, body. */
export function toApiGatewayResult(answer: WebhookAnswer): APIGatewayProxyResult {
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
