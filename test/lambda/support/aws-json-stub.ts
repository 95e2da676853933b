// A minimal AWS JSON-protocol endpoint (SSM: JSON 1.1, SQS: JSON 1.0) for adapter tests, until the
// shared SSM and SQS simulators exist. The real SDK client talks HTTP to it; each test answers
// per `X-Amz-Target` operation and sees what was sent.

import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubRequest {
  readonly operation: string;
  readonly body: Record<string, unknown>;
}

export type StubReply = { status?: number; body: Record<string, unknown> };

export interface AwsJsonStub {
  readonly endpoint: string;
  readonly requests: StubRequest[];
  stop(): Promise<void>;
}

export async function startAwsJsonStub(reply: (request: StubRequest) => StubReply): Promise<AwsJsonStub> {
  const requests: StubRequest[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const request = { operation: target.slice(target.indexOf('.') + 1), body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown> };
      requests.push(request);
      const { status = 200, body } = reply(request);
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'stub' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export const TEST_CLIENT_CONFIG = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 };
