import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';

/**
 * A TCP relay on loopback in front of a service: every connection it accepts is piped to the
 * target, and the bytes of each direction are kept per connection, so that a test can search
 * exactly what crossed the socket (request bytes as the service received them, answers as it sent
 * them), whatever the HTTP layer above did with them.
 */

/** The bytes of one relayed connection, in each direction. */
export type RecordedConnection = {
  /** What the client sent, and so what the target received. */
  readonly received: Buffer[];
  /** What the target sent back to the client. */
  readonly sent: Buffer[];
};

/** A running relay. */
export type SocketRecorder = {
  /** Where clients connect instead of the target, such as `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Every connection so far, in the order they were accepted. */
  readonly connections: readonly RecordedConnection[];
  /** Stops accepting and ends every relayed connection. */
  close(): Promise<void>;
};

/** Starts a relay to `target` (an http URL such as the Scheduler's) on 127.0.0.1 at a free port. */
export async function startSocketRecorder(target: string): Promise<SocketRecorder> {
  const { hostname, port } = new URL(target);
  const connections: RecordedConnection[] = [];
  const sockets = new Set<Socket>();

  const server = createServer((client) => {
    const upstream = createConnection({ host: hostname, port: Number(port) });
    const recorded: RecordedConnection = { received: [], sent: [] };
    connections.push(recorded);
    relay(client, upstream, recorded.received, sockets);
    relay(upstream, client, recorded.sent, sockets);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the relay has no port');

  return {
    url: `http://127.0.0.1:${address.port}`,
    connections,
    close: async () => {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** Copies `from` to `to`, keeping each chunk; either side ending or failing ends the other. */
function relay(from: Socket, to: Socket, chunks: Buffer[], sockets: Set<Socket>): void {
  sockets.add(from);
  from.on('data', (chunk: Buffer) => {
    chunks.push(Buffer.from(chunk));
    to.write(chunk);
  });
  from.on('end', () => to.end());
  from.on('error', () => to.destroy());
  from.on('close', () => {
    sockets.delete(from);
    // An ended side still flushes what it was given; only one closed without an end is cut.
    if (!to.writableEnded) to.destroy();
  });
}
