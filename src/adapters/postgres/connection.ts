// Where a PostgreSQL connection comes from: a postgres:// URL or the usual PG* settings, turned into a
// connector that opens node-postgres clients tagged with an application_name. Generic: no LokDarpan logic.
import pg from 'pg';
import { parse as parseConnectionString } from 'pg-connection-string';

/** What identifies the server and the role. Either a URL, or discrete fields (PG* style), or both (fields win). */
export interface PgConnectionSettings {
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  /** libpq sslmode-like switch (or node-postgres TLS options); `undefined` leaves it to the URL / node-postgres defaults. */
  ssl?: boolean | { rejectUnauthorized: boolean; ca?: string };
}

/**
 * Settings from `--database-url` (wins) or the PG* variables of `env` (PGHOST, PGPORT, PGUSER,
 * PGPASSWORD, PGDATABASE, PGSSLMODE). Only the composition root passes a real environment here.
 */
export function connectionSettingsFrom(env: Readonly<Record<string, string | undefined>>, databaseUrl?: string): PgConnectionSettings {
  const url = databaseUrl ?? env['DATABASE_URL'];
  if (url !== undefined && url !== '') return { connectionString: url };
  const settings: PgConnectionSettings = {};
  if (env['PGHOST']) settings.host = env['PGHOST'];
  if (env['PGPORT']) {
    const port = Number(env['PGPORT']);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`PGPORT "${env['PGPORT']}" is not a TCP port`);
    settings.port = port;
  }
  if (env['PGUSER']) settings.user = env['PGUSER'];
  if (env['PGPASSWORD'] !== undefined) settings.password = env['PGPASSWORD'];
  if (env['PGDATABASE']) settings.database = env['PGDATABASE'];
  const sslmode = env['PGSSLMODE'];
  if (sslmode === 'disable') settings.ssl = false;
  else if (sslmode === 'require' || sslmode === 'verify-ca' || sslmode === 'verify-full') settings.ssl = true;
  return settings;
}

/**
 * A one-line description of the target, user@host:port/database, built from the parsed parts: never
 * the password, wherever it sits (userinfo, `?password=`), nor any other query parameter.
 */
export function describeConnection(settings: PgConnectionSettings): string {
  let fromUrl: { user?: string | undefined; host?: string | null | undefined; port?: string | null | undefined; database?: string | null | undefined } = {};
  if (settings.connectionString !== undefined) {
    try {
      fromUrl = parseConnectionString(settings.connectionString);
    } catch {
      // pg refuses the same text when it connects; the text itself may hold the password.
      if (settings.host === undefined) return '(an unparseable postgres:// URI)';
    }
  }
  const user = settings.user ?? (fromUrl.user || undefined) ?? '(default user)';
  const host = settings.host ?? (fromUrl.host || undefined) ?? 'localhost';
  const port = settings.port ?? (fromUrl.port || undefined) ?? 5432;
  const database = settings.database ?? (fromUrl.database || undefined) ?? '(default db)';
  return `${user}@${host}:${port}/${database}`;
}

export interface ConnectOptions {
  /** Shown in pg_stat_activity; truncated to PostgreSQL's 63 bytes. */
  applicationName?: string;
  /** Session settings sent in the startup packet (`-c name=value`), e.g. `client_connection_check_interval`. */
  sessionSettings?: Readonly<Record<string, string | number>>;
  connectTimeoutMs?: number;
  /**
   * Cancels the session: when it aborts, the client's socket is destroyed at once (a hung server gets no
   * chance to hold the caller), so a pending connect or query rejects; connect() refuses once aborted.
   */
  signal?: AbortSignal;
  /**
   * A new session even where sessions are pooled: it starts with exactly the settings the app's own new
   * connections get (database and role defaults are read when a session starts, so a reused session
   * opened before an `ALTER DATABASE ... SET` still has the old value).
   */
  fresh?: boolean;
}

/** Opens clients to one database; each call is a new session. */
export interface PgConnector {
  connect(options?: ConnectOptions): Promise<pg.Client>;
  readonly description: string;
}

export function createConnector(settings: PgConnectionSettings, defaults: ConnectOptions = {}): PgConnector {
  return {
    description: describeConnection(settings),
    async connect(options: ConnectOptions = {}): Promise<pg.Client> {
      const merged = { ...defaults, ...options, sessionSettings: { ...defaults.sessionSettings, ...options.sessionSettings } };
      const config: pg.ClientConfig = { ...toClientConfig(settings) };
      if (merged.applicationName !== undefined) config.application_name = truncateBytes(merged.applicationName, 63);
      const startup = Object.entries(merged.sessionSettings).map(([k, v]) => `-c ${k}=${String(v).replace(/[\s\\]/g, '\\$&')}`);
      if (startup.length > 0) config.options = startup.join(' ');
      config.connectionTimeoutMillis = merged.connectTimeoutMs ?? 10_000;
      const signal = merged.signal;
      signal?.throwIfAborted();
      const client = new pg.Client(config);
      // An idle client whose server goes away emits 'error'; without a listener that would crash the process.
      client.on('error', () => {});
      if (signal) {
        const cut = (): void => void client.connection.stream.destroy();
        signal.addEventListener('abort', cut, { once: true });
        client.once('end', () => signal.removeEventListener('abort', cut));
      }
      try {
        await client.connect();
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        throw error;
      }
      return client;
    },
  };
}

/** node-postgres client settings for a target (no session options). */
export function toClientConfig(settings: PgConnectionSettings): pg.ClientConfig {
  const config: pg.ClientConfig = {};
  if (settings.connectionString !== undefined) config.connectionString = settings.connectionString;
  if (settings.host !== undefined) config.host = settings.host;
  if (settings.port !== undefined) config.port = settings.port;
  if (settings.user !== undefined) config.user = settings.user;
  if (settings.password !== undefined) config.password = settings.password;
  if (settings.database !== undefined) config.database = settings.database;
  if (settings.ssl !== undefined) config.ssl = settings.ssl;
  return config;
}

function truncateBytes(text: string, max: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return text;
  return bytes.subarray(0, max).toString('utf8').replace(/\uFFFD$/, '');
}
