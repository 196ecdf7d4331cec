import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';

/**
 * A small forward proxy on loopback for tests: plain requests in absolute-URI form are forwarded
 * (and may be answered or cut off by the test instead), CONNECT requests open a tunnel. It keeps
 * what it saw, so tests can tell that traffic went through it.
 */

/** One request the proxy saw. */
export type SeenRequest = {
  readonly method: string;
  /** The absolute URI of a forwarded request, or `host:port` of a CONNECT. */
  readonly target: string;
  readonly headers: http.IncomingHttpHeaders;
};

/** What to do with a forwarded request: pass it on, answer it here, or drop its answer. */
export type ProxyDecision =
  | { readonly action: 'forward' }
  | { readonly action: 'answer'; readonly status: number; readonly body: unknown }
  /** Forwards it, lets the Scheduler act on it, then cuts the connection before answering. */
  | { readonly action: 'drop-answer' };

/** A running proxy. */
export type TestProxy = {
  readonly url: string;
  readonly seen: SeenRequest[];
  close(): Promise<void>;
};

/** Starts a proxy; `decide` is asked about each plain request (CONNECT is always tunnelled). */
export async function startTestProxy(
  decide: (request: SeenRequest) => ProxyDecision = () => ({ action: 'forward' }),
): Promise<TestProxy> {
  const seen: SeenRequest[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((request, response) => {
    const entry = {
      method: request.method ?? '',
      target: request.url ?? '',
      headers: request.headers,
    };
    seen.push(entry);
    const decision = decide(entry);
    if (decision.action === 'answer') {
      response.writeHead(decision.status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(decision.body));
      return;
    }
    forward(request, response, decision.action === 'drop-answer');
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('connect', (request, client, head) => {
    seen.push({ method: 'CONNECT', target: request.url ?? '', headers: request.headers });
    const [host, port] = (request.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.once('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function forward(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  shouldDropAnswer: boolean,
): void {
  const target = new URL(request.url ?? '');
  const upstream = http.request(
    target,
    { method: request.method, headers: request.headers, agent: false },
    (answer) => {
      if (shouldDropAnswer) {
        answer.resume();
        answer.once('end', () => response.socket?.destroy());
        return;
      }
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    },
  );
  upstream.on('error', () => response.socket?.destroy());
  request.pipe(upstream);
}
