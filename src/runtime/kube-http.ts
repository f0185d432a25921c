// The operator's HTTP layer to the API server, over node:http(s) with one keep-alive connection pool per
// TLS identity. It replaces @kubernetes/client-node's request pipeline at run time: importing that
// package loads every generated API class and model plus undici (~80 MB of RSS before the first
// request; bench/import-cost.ts), of which the operator used the request pipeline and Watch only.
// Where the connection settings come from (kubeconfig, in-cluster, a client-node KubeConfig): kube-config.ts.
import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';

/** TLS settings of one cluster and user. The same object comes back while the material is unchanged. */
export interface KubeTls {
  ca?: Buffer | undefined;
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
  /** false only for `insecure-skip-tls-verify`. */
  rejectUnauthorized?: boolean | undefined;
  servername?: string | undefined;
}

export interface KubeCredentials {
  tls: KubeTls;
  /** Authorization (and impersonation) headers for this request. */
  headers: Record<string, string>;
}

/** Where the API server is and how to authenticate to it. */
export interface KubeConnection {
  /** Base URL, e.g. `https://10.0.0.1:443` (may carry a path prefix). */
  readonly server: string;
  /** Called before every request: tokens may rotate, TLS files are re-read now and then. */
  credentials(): Promise<KubeCredentials>;
}

/** A non-2xx answer of the API server: `code` is the HTTP status, `body` the parsed Status (or text). */
export class KubeApiError extends Error {
  readonly code: number;
  readonly body: unknown;
  readonly headers: Record<string, string | string[] | undefined>;

  constructor(code: number, body: unknown, headers: Record<string, string | string[] | undefined>) {
    super(`HTTP ${code}: ${statusMessage(body) ?? http.STATUS_CODES[code] ?? 'unsuccessful request'}`);
    this.name = 'KubeApiError';
    this.code = code;
    this.body = body;
    this.headers = headers;
  }
}

function statusMessage(body: unknown): string | undefined {
  if (typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string') return (body as { message: string }).message;
  return undefined;
}

export interface KubeHttpOptions {
  /** A request whose socket is silent this long fails (undici's default, which client-node used). */
  requestTimeoutMs?: number;
  /** A watch with no data this long ends with a TimeoutError. Default: watchIdleGuardMs of its query. */
  watchIdleTimeoutMs?: number;
}

/** Silence past a watch's server-side timeoutSeconds before the connection is taken for dead. */
const WATCH_GRACE_MS = 30_000;
/** The idle guard of a watch without timeoutSeconds (the informer's are 5-10 minutes, as client-go's). */
const WATCH_IDLE_DEFAULT_MS = 10 * 60_000;
/** TCP keepalive on a watch's socket (as client-go's dialer): a peer gone without a word is noticed. */
const WATCH_KEEPALIVE_MS = 30_000;

/**
 * How long a watch may stay silent before it is ended as a dead connection. The server ends a quiet watch
 * itself at its timeoutSeconds (bookmarks keep it from being silent meanwhile), so the guard only fires
 * after that has not happened; a shorter guard re-opened every quiet watch (client-node's was 30 s).
 */
export function watchIdleGuardMs(query: WatchQuery): number {
  const timeoutSeconds = Number(query['timeoutSeconds']);
  return timeoutSeconds > 0 ? timeoutSeconds * 1000 + WATCH_GRACE_MS : WATCH_IDLE_DEFAULT_MS;
}

export type WatchQuery = Record<string, string | number | boolean | undefined>;
export type WatchEventHandler = (type: string, object: unknown) => void;
export type WatchDoneHandler = (error: unknown) => void;

export interface KubeResponse {
  status: number;
  body: unknown;
}

const TLS_FIELDS = ['ca', 'cert', 'key', 'rejectUnauthorized', 'servername'] as const;

function sameTls(a: KubeTls, b: KubeTls): boolean {
  return TLS_FIELDS.every((field) => {
    const x = a[field];
    const y = b[field];
    return Buffer.isBuffer(x) && Buffer.isBuffer(y) ? x.equals(y) : x === y;
  });
}

/** Requests and watches on one connection; a new pool only when the TLS material really changed. */
export class KubeHttp {
  readonly connection: KubeConnection;
  readonly #requestTimeoutMs: number;
  readonly #watchIdleTimeoutMs: number | undefined;
  #pool: { tls: KubeTls; agent: http.Agent } | undefined;

  constructor(connection: KubeConnection, options: KubeHttpOptions = {}) {
    this.connection = connection;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 300_000;
    this.#watchIdleTimeoutMs = options.watchIdleTimeoutMs;
  }

  #agent(url: URL, tls: KubeTls): http.Agent {
    if (this.#pool && (this.#pool.tls === tls || sameTls(this.#pool.tls, tls))) {
      this.#pool.tls = tls;
      return this.#pool.agent;
    }
    const agent =
      url.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, ca: tls.ca, cert: tls.cert, key: tls.key, servername: tls.servername, rejectUnauthorized: tls.rejectUnauthorized ?? true })
        : new http.Agent({ keepAlive: true });
    // The previous pool's idle sockets close by themselves; requests still on it finish there.
    this.#pool = { tls, agent };
    return agent;
  }

  async #open(method: string, path: string, query: Record<string, string>, headers: Record<string, string>): Promise<{ url: URL; options: http.RequestOptions }> {
    const url = new URL(this.connection.server.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const credentials = await this.connection.credentials();
    return { url, options: { method, agent: this.#agent(url, credentials.tls), headers: { ...headers, ...credentials.headers } } };
  }

  /** One request with a JSON (or patch) body; 2xx -> parsed body, else KubeApiError. */
  async request(method: string, path: string, options: { query?: Record<string, string> | undefined; body?: unknown; contentType?: string | undefined } = {}): Promise<KubeResponse> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    if (payload !== undefined) {
      headers['Content-Type'] = options.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const { url, options: requestOptions } = await this.#open(method, path, options.query ?? {}, headers);
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise<KubeResponse>((resolve, reject) => {
      const req = transport.request(url, requestOptions, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          let body: unknown = text;
          try {
            body = text === '' ? {} : JSON.parse(text);
          } catch {
            // not JSON (a proxy's error page): keep the text
          }
          if (status >= 200 && status <= 299) resolve({ status, body });
          else reject(new KubeApiError(status, body, res.headers));
        });
      });
      req.setTimeout(this.#requestTimeoutMs, () => req.destroy(new Error(`no answer from the API server in ${this.#requestTimeoutMs / 1000} s (${method} ${url.pathname})`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /**
   * A watch (as client-node's Watch): `onEvent(type, object)` per line, `onDone(error)` exactly once when
   * the stream ends (the server's timeoutSeconds), fails, is aborted or stays silent for the idle guard. A non-200 answer ends it with
   * an Error carrying `statusCode`.
   */
  async watch(path: string, query: WatchQuery, onEvent: WatchEventHandler, onDone: WatchDoneHandler): Promise<AbortController> {
    const params: Record<string, string> = { watch: 'true' };
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params[k] = String(v);
    const { url, options } = await this.#open('GET', path, params, { Accept: 'application/json' });
    const transport = url.protocol === 'https:' ? https : http;
    const controller = new AbortController();
    const idleMs = this.#watchIdleTimeoutMs ?? watchIdleGuardMs(query);
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (error: unknown): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      controller.abort();
      onDone(error);
    };
    const resetTimer = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), idleMs);
      timer.unref();
    };
    resetTimer();
    const req = transport.request(url, { ...options, signal: controller.signal }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        const error = new Error(res.statusMessage || http.STATUS_CODES[res.statusCode ?? 500] || 'Internal Server Error') as Error & { statusCode?: number };
        error.statusCode = res.statusCode ?? 500;
        finish(error);
        return;
      }
      resetTimer();
      res.on('data', resetTimer);
      res.on('error', finish);
      res.on('close', () => finish(null));
      const lines = createInterface({ input: res, crlfDelay: Infinity });
      // readline re-emits the response's errors (an abort included): unhandled, they would crash the process.
      lines.on('error', finish);
      lines.on('line', (line) => {
        if (done) return;
        let data: { type?: unknown; object?: unknown };
        try {
          data = JSON.parse(line) as { type?: unknown; object?: unknown };
        } catch {
          return; // as client-node: a line that is not JSON is skipped
        }
        onEvent(String(data.type), data.object);
      });
    });
    req.on('socket', (socket) => socket.setKeepAlive(true, WATCH_KEEPALIVE_MS));
    req.on('error', finish);
    req.end();
    return controller;
  }
}
