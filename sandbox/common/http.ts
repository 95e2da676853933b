// Small helpers shared by the simulators' HTTP servers: loopback only, bounded bodies.
import { createServer, IncomingMessage, ServerResponse } from 'http';
import { AddressInfo } from 'net';

/** A listening HTTP server on 127.0.0.1 and a random free port; `url` is `http://127.0.0.1:PORT`. */
export type LoopbackServer = Awaited<ReturnType<typeof listenOnLoopback>>;

export async function listenOnLoopback(listener: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>) {
  const server = createServer((req, res) => {
    Promise.resolve(listener(req, res)).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`simulator error: ${err instanceof Error ? err.message : String(err)}`);
    });
  });
  // AWS keeps an idle connection open far longer than Node's default 5 s; with that default a client
  // reusing a kept-alive socket races the close and sees "socket hang up". close() ends every connection.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
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
  return Object.fromEntries(Object.entries(req.headers).filter(([, v]) => v !== undefined).map(([name, v]) => [name, [v!].flat().join(',')]));
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

  protected abstract handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}
