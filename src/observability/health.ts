// The operator's HTTP endpoints (node:http): /metrics (Prometheus text from the registry), /healthz
// (the process is alive and its loops are not wedged) and /readyz (caches synced and, with leader
// election on, participating). Each check is named; `?verbose` lists them like kube-apiserver does.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Registry } from 'prom-client';
import { silentLogger, type Logger } from './logger.ts';

/** A named check: true (or resolves true) when healthy; a thrown error or false fails it. */
export type HealthCheck = () => boolean | Promise<boolean>;

export interface HealthServerOptions {
  /** 0 picks a free port. Default 8081. */
  port?: number;
  /** Default 0.0.0.0 (in a pod); tests use 127.0.0.1. */
  host?: string;
  registry?: Registry;
  logger?: Logger;
  /** A check slower than this fails. Default 2 s. */
  checkTimeoutMs?: number;
}

export class HealthServer {
  readonly #server: Server;
  readonly #registry: Registry | undefined;
  readonly #logger: Logger;
  readonly #port: number;
  readonly #host: string;
  readonly #checkTimeoutMs: number;
  readonly #live = new Map<string, HealthCheck>();
  readonly #ready = new Map<string, HealthCheck>();
  readonly #sockets = new Set<Socket>();
  #closing = false;

  constructor(options: HealthServerOptions = {}) {
    this.#registry = options.registry;
    this.#logger = options.logger ?? silentLogger;
    this.#port = options.port ?? 8081;
    this.#host = options.host ?? '0.0.0.0';
    this.#checkTimeoutMs = options.checkTimeoutMs ?? 2000;
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  /** The bound port once listening. */
  get port(): number | undefined {
    const address = this.#server.address();
    return address && typeof address === 'object' ? address.port : undefined;
  }

  /** Adds a liveness check (served on /healthz). */
  addHealthCheck(name: string, check: HealthCheck): void {
    this.#live.set(name, check);
  }

  /** Adds a readiness check (served on /readyz). */
  addReadyCheck(name: string, check: HealthCheck): void {
    this.#ready.set(name, check);
  }

  async listen(): Promise<{ port: number; url: string }> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, this.#host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const port = (this.#server.address() as AddressInfo).port;
    const host = this.#host === '0.0.0.0' ? '127.0.0.1' : this.#host;
    this.#logger.info({ port }, 'health and metrics server listening');
    return { port, url: `http://${host}:${port}` };
  }

  /** Stops accepting connections; idle keep-alive sockets close now, busy ones get up to graceMs. */
  async close(graceMs = 2000): Promise<void> {
    if (this.#closing || !this.#server.listening) return;
    this.#closing = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    const timer = setTimeout(() => {
      for (const s of this.#sockets) s.destroy();
    }, graceMs);
    timer.unref();
    await closed;
    clearTimeout(timer);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        this.#send(res, 405, 'method not allowed\n');
        return;
      }
      if (this.#closing) res.setHeader('Connection', 'close');
      switch (url.pathname) {
        case '/metrics': {
          if (!this.#registry) {
            this.#send(res, 404, 'no metrics registry\n');
            return;
          }
          const body = await this.#registry.metrics();
          this.#send(res, 200, body, this.#registry.contentType);
          return;
        }
        case '/healthz':
        case '/livez':
          await this.#checks(res, this.#live, url.searchParams.has('verbose'));
          return;
        case '/readyz':
          await this.#checks(res, this.#ready, url.searchParams.has('verbose'), this.#closing ? 'shutting down' : undefined);
          return;
        default:
          this.#send(res, 404, 'not found\n');
      }
    } catch (error) {
      this.#logger.error({ error: error instanceof Error ? error.message : String(error) }, 'health endpoint failed');
      if (!res.headersSent) this.#send(res, 500, 'internal error\n');
      else res.end();
    }
  }

  async #checks(res: ServerResponse, checks: Map<string, HealthCheck>, verbose: boolean, forcedFailure?: string): Promise<void> {
    const lines: string[] = [];
    let ok = true;
    for (const [name, check] of checks) {
      const passed = await this.#run(check);
      ok &&= passed;
      lines.push(passed ? `[+]${name} ok` : `[-]${name} failed`);
    }
    if (forcedFailure) {
      ok = false;
      lines.push(`[-]${forcedFailure}`);
    }
    const summary = ok ? 'ok' : 'failed';
    const body = verbose || !ok ? `${lines.join('\n')}\n${verbose ? `check ${summary}` : summary}\n` : 'ok\n';
    this.#send(res, ok ? 200 : 503, body);
  }

  async #run(check: HealthCheck): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), this.#checkTimeoutMs);
        timer.unref();
      });
      return (await Promise.race([Promise.resolve().then(check), timeout])) === true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  #send(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
    res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }
}
