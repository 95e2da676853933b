// An HTTP forwarder between an SDK client and a simulator that can hold requests: an AWS endpoint
// answering slowly, without touching the simulator. Held requests go on when released.
import { createServer, IncomingMessage, request as httpRequest, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface HoldingProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Requests received so far. */
  readonly received: number;
  /** Requests held now. */
  readonly held: number;
  /** Holds every request from now until `release()`. */
  hold(): void;
  /** Holds the next `count` requests only (until `release()`); later ones go through. */
  holdNext(count: number): void;
  /** Forwards the held requests and stops holding. */
  release(): void;
  stop(): Promise<void>;
}

export async function startHoldingProxy(target: string): Promise<HoldingProxy> {
  const targetUrl = new URL(target);
  let holding = false;
  let holdCount = 0;
  let received = 0;
  const held: Array<() => void> = [];
  const sockets = new Set<Socket>();
  const forward = (req: IncomingMessage, body: Buffer, res: ServerResponse) => () => {
    if (res.destroyed) return; // the client gave up (its request timeout) while the request was held
    const upstream = httpRequest({
      host: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers: { ...req.headers, host: targetUrl.host },
    }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    upstream.end(body);
  };
  const server: Server = createServer((req, res) => {
    received++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const go = forward(req, Buffer.concat(chunks), res);
      if (holding || holdCount > 0) {
        holdCount = Math.max(0, holdCount - 1);
        held.push(go);
      } else {
        go();
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get received() { return received; },
    get held() { return held.length; },
    hold() { holding = true; },
    holdNext(count) { holdCount = count; },
    release() {
      holding = false;
      holdCount = 0;
      for (const go of held.splice(0)) go();
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
