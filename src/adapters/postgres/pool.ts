// Reused PostgreSQL sessions, one small node-postgres Pool per target (server, role, password, database):
// a reconcile's sessions (preflight, plan, history, view refresh; the validation asks for a fresh one) are taken from it instead of
// each opening a new connection (TCP, a server process, SCRAM). What each caller asks of its session
// (application_name, statement_timeout...) is set with set_config when it is taken and undone with
// DISCARD ALL when it is given back (which also drops advisory locks, temporary tables and prepared
// statements). The client a caller gets is an ordinary pg.Client whose end() gives it back, so engines
// written for one-off sessions need no change. A pool whose sessions all idled out is dropped: a target
// no longer used (its resource deleted, its password rotated) holds no connection after idleMs.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { createConnector, describeConnection, toClientConfig, type ConnectOptions, type PgConnectionSettings, type PgConnector } from './connection.ts';

export interface PgPoolsOptions {
  /** Sessions kept per target; when all are taken, a caller gets a one-off session instead of waiting. Default 4. */
  maxPerTarget?: number;
  /** An unused session is closed after this long. Default 10 s. */
  idleMs?: number;
  /** application_name of an idle session. Default "lokdarpan-operator". */
  applicationName?: string;
}

/** A pooled client: end() while lent gives it back to its pool (the pool itself closes it with end(callback)). */
class LentClient extends pg.Client {
  giveBack: (() => Promise<void>) | undefined;

  constructor(config?: pg.ClientConfig) {
    super(config);
    // A session that breaks while lent emits 'error'; the caller sees its query fail instead.
    this.on('error', () => {});
  }

  override end(): Promise<void>;
  override end(callback: (err: Error) => void): void;
  override end(callback?: (err: Error) => void): Promise<void> | void {
    if (callback) return super.end(callback);
    const giveBack = this.giveBack;
    this.giveBack = undefined;
    return giveBack ? giveBack() : super.end();
  }
}

export class PgPools {
  readonly #pools = new Map<string, pg.Pool>();
  readonly #max: number;
  readonly #idleMs: number;
  readonly #applicationName: string;
  #closed = false;

  constructor(options: PgPoolsOptions = {}) {
    this.#max = Math.max(1, options.maxPerTarget ?? 4);
    this.#idleMs = options.idleMs ?? 10_000;
    this.#applicationName = options.applicationName ?? 'lokdarpan-operator';
  }

  /** A connector whose sessions come from the target's pool; `defaults` as for createConnector. */
  connector(settings: PgConnectionSettings, defaults: ConnectOptions = {}): PgConnector {
    const oneOff = createConnector(settings, defaults);
    return {
      description: describeConnection(settings),
      connect: async (options: ConnectOptions = {}) => {
        const merged = { ...defaults, ...options, sessionSettings: { ...defaults.sessionSettings, ...options.sessionSettings } };
        const pool = this.#closed || options.fresh === true ? undefined : this.#poolFor(settings);
        // Never wait for a session (a caller holding one while asking for a second could wait forever).
        if (!pool || (pool.idleCount === 0 && pool.totalCount >= this.#max)) return oneOff.connect(options);
        return this.#lend(pool, merged);
      },
    };
  }

  /** Targets with a pool now (each holds at least one session). */
  get size(): number {
    return this.#pools.size;
  }

  /** Sessions open across every pool (lent or idle). */
  get sessions(): number {
    let n = 0;
    for (const pool of this.#pools.values()) n += pool.totalCount;
    return n;
  }

  /** Closes every idle session now; lent ones close when given back. Later connects open one-off sessions. */
  close(): void {
    this.#closed = true;
    for (const pool of this.#pools.values()) void pool.end().catch(() => {});
    this.#pools.clear();
  }

  #poolFor(settings: PgConnectionSettings): pg.Pool {
    const config = toClientConfig(settings);
    // The key stands for the password too (a rotated password is a new pool) without keeping it in clear.
    const key = createHash('sha256').update(JSON.stringify(config)).digest('hex');
    const existing = this.#pools.get(key);
    if (existing) return existing;
    const pool = new pg.Pool({
      ...config,
      application_name: this.#applicationName,
      max: this.#max,
      idleTimeoutMillis: this.#idleMs,
      connectionTimeoutMillis: 10_000,
      allowExitOnIdle: true,
      Client: LentClient,
    });
    // An idle session whose server goes away: the pool drops it; nothing to report.
    pool.on('error', () => {});
    pool.on('remove', () => {
      if (pool.totalCount > 0 || pool.waitingCount > 0 || this.#pools.get(key) !== pool) return;
      this.#pools.delete(key);
      void pool.end().catch(() => {});
    });
    this.#pools.set(key, pool);
    return pool;
  }

  async #lend(pool: pg.Pool, options: ConnectOptions): Promise<pg.Client> {
    const signal = options.signal;
    signal?.throwIfAborted();
    const client = (await pool.connect()) as pg.PoolClient & LentClient;
    const cut = (): void => void client.connection.stream.destroy();
    const settings: Array<[string, string]> = Object.entries(options.sessionSettings ?? {}).map(([k, v]) => [k, String(v)]);
    if (options.applicationName !== undefined) settings.unshift(['application_name', options.applicationName]);
    try {
      if (signal?.aborted) throw signal.reason;
      signal?.addEventListener('abort', cut, { once: true });
      if (settings.length > 0) {
        const calls = settings.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, false)`).join(', ');
        await client.query(`SELECT ${calls}`, settings.flat());
      }
    } catch (error) {
      signal?.removeEventListener('abort', cut);
      client.release(error instanceof Error ? error : new Error(String(error)));
      if (signal?.aborted) throw signal.reason;
      throw error;
    }
    client.giveBack = async () => {
      signal?.removeEventListener('abort', cut);
      try {
        await client.query('DISCARD ALL');
        client.release();
      } catch (error) {
        // Broken, cut, or left inside a transaction: not reusable.
        client.release(error instanceof Error ? error : new Error(String(error)));
      }
    };
    return client;
  }
}
