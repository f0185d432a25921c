// A small TCP proxy in front of PostgreSQL for fault injection, chosen per test (and per connection: a
// mode change applies to the connections accepted after it):
// - pass: forwards both ways;
// - blackhole: accepts the connection and never answers (nothing reaches the server);
// - stall-queries: forwards the startup and authentication, then holds the first query (simple 'Q' or
//   extended 'P') and everything after it: the session is open and the server never hears from it again,
//   like a server or network path that hangs mid-work. Needs an unencrypted session (sslmode=disable).
// close() destroys every connection and stops listening.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type TcpProxyMode = 'pass' | 'blackhole' | 'stall-queries';

export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  mode: TcpProxyMode;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections whose client->server direction is held (stall-queries after the first query, blackhole). */
  readonly stalled: number;
  /** `url` with its host and port replaced by the proxy's. */
  rewrite(url: string): string;
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const QUERY_TYPES = new Set(['Q', 'P']);

export async function startTcpProxy(target: { host: string; port: number }, options: { mode?: TcpProxyMode } = {}): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  let stalled = 0;
  const track = (s: Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  };
  const proxy = {
    host: '127.0.0.1',
    port: 0,
    mode: options.mode ?? 'pass',
    get accepted() {
      return accepted;
    },
    get stalled() {
      return stalled;
    },
    rewrite(url: string): string {
      const u = new URL(url);
      u.hostname = proxy.host;
      u.port = String(proxy.port);
      return u.toString();
    },
    close: async () => {},
  } satisfies TcpProxy;

  const server: Server = createServer((client) => {
    accepted++;
    track(client);
    const mode = proxy.mode;
    if (mode === 'blackhole') {
      stalled++;
      client.resume(); // read and drop: the peer's writes never block, it just never hears back
      return;
    }
    const upstream = createConnection(target);
    track(upstream);
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.pipe(client);
    if (mode === 'pass') {
      client.pipe(upstream);
      return;
    }
    // stall-queries: parse the client's messages until its first query, forward everything before it.
    let buffered = Buffer.alloc(0);
    let startup = true;
    let holding = false;
    client.on('data', (chunk: Buffer) => {
      if (holding) return;
      buffered = Buffer.concat([buffered, chunk]);
      let forward = 0;
      for (;;) {
        if (startup) {
          if (buffered.length - forward < 8) break;
          const length = buffered.readInt32BE(forward);
          if (buffered.length - forward < length) break;
          const code = buffered.readInt32BE(forward + 4);
          forward += length;
          // SSL/GSS requests are answered 'N' and followed by the real startup message.
          if (code !== SSL_REQUEST && code !== GSSENC_REQUEST && code !== CANCEL_REQUEST) startup = false;
          continue;
        }
        if (buffered.length - forward < 5) break;
        const type = String.fromCharCode(buffered[forward] ?? 0);
        if (QUERY_TYPES.has(type)) {
          holding = true;
          stalled++;
          break;
        }
        const length = buffered.readInt32BE(forward + 1);
        if (buffered.length - forward < length + 1) break;
        forward += length + 1;
      }
      if (forward > 0) upstream.write(buffered.subarray(0, forward));
      buffered = holding ? Buffer.alloc(0) : buffered.subarray(forward);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, proxy.host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP address');
  proxy.port = address.port;
  proxy.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return proxy;
}
