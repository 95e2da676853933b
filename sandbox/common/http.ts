// Small helpers shared by the simulators' HTTP servers: loopback only, bounded bodies.
import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import { AddressInfo } from 'net';

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** A listening HTTP server on 127.0.0.1 and a random free port. */
export interface LoopbackServer {
  readonly server: Server;
  readonly port: number;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  close(): Promise<void>;
}

export async function listenOnLoopback(listener: RequestListener): Promise<LoopbackServer> {
  const server = createServer((req, res) => {
    Promise.resolve(listener(req, res)).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
      }
      res.end(`simulator error: ${err instanceof Error ? err.message : String(err)}`);
    });
  });
  // AWS's endpoints keep an idle connection open far longer than Node's default 5 s. With that
  // default, a client reusing a kept-alive socket races the server closing it and sees "socket hang
  // up", which a client with retries off (the tests') reports as a failure. close() ends every
  // connection, so a long timeout never holds a stop up.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Reads a request body, refusing more than `limitBytes`. */
export async function readBody(req: IncomingMessage, limitBytes = 10 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) throw new Error(`request body larger than ${limitBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The request's headers by lower-case name, a repeated header's values joined with commas. */
export function flatHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

/** The caller's IPv4 address as AWS reports it (Node gives IPv4-mapped IPv6 on a dual stack). */
export function sourceIpOf(req: IncomingMessage): string {
  return (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
}

/** Adds one to `counts[key]`: the simulators' per-operation and per-error tallies. */
export function tally(counts: Record<string, number>, key: string | number): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** A simulator served on loopback: start() listens, stop() closes, url names the server while it runs. */
export abstract class LoopbackService {
  private server?: LoopbackServer;

  /** `http://127.0.0.1:PORT`. */
  get url(): string {
    if (!this.server) throw new Error(`${this.constructor.name} is not started`);
    return this.server.url;
  }

  async start(): Promise<void> {
    this.server = await listenOnLoopback((req, res) => this.handle(req, res));
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  protected get started(): boolean {
    return this.server !== undefined;
  }

  protected abstract handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}
