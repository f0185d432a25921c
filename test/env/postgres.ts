// Throwaway PostgreSQL clusters (15 or 18, both with pgvector) for integration tests.
//
// Usage: `const pg = await startPostgres()` (major from `{ major }`, else env LOKDARPAN_PG_MAJOR, else 15)
// runs initdb in a temp dir and starts a server on 127.0.0.1:<free port> (plus a unix socket in that
// dir) with fsync off; the superuser is `postgres` with a generated password, and every TCP login uses
// scram-sha-256. Per test, `const db = await pg.createDatabase({ withVector: true })` gives a fresh
// database owned by a fresh NON-superuser login role: connect as that role with `db.appConfig()` /
// `db.appUrl`, as the superuser with `db.adminConfig()` / `db.url`; `db.drop()` removes both. The
// `vector` extension is installed but not `trusted`, so only a superuser can CREATE it (`withVector`
// does that). `pg.binDir` has pg_dump/pg_restore/psql of the same major and `pg.cliEnv(db.name)` the
// PG* variables for them. To test "pgvector is missing", start `startPostgres({ withoutVector: true })`:
// the server then runs from a private install tree whose share/extension dir lacks vector's files,
// so `CREATE EXTENSION vector` fails exactly as on a server without pgvector. Call `pg.stop()` in
// `after()`; clusters still running when the test process exits are killed and their dirs removed.
// Cost (2 cores, loaded): startPostgres 1.2-1.4 s for either major (initdb is most of it), createDatabase
// with vector ~0.3 s, stop ~0.1 s. Restoring a dump as the non-superuser owner: create the database with
// `withVector: true` first and pass `--no-comments` to pg_restore (COMMENT ON EXTENSION needs its owner).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  copyFileSync,
  linkSync,
  mkdirSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import { join, sep } from 'node:path';
import pg from 'pg';
import type { ClientConfig } from 'pg';
import { freePort, makeTempDir, startProcess, type ManagedProcess } from './process.ts';
import { ProcessExitedError, untilReadyOrExit } from './ready.ts';
import { registerCleanup, waitForExitSync } from './cleanup.ts';
import { pgBinDir, pgInstallDirs, type PgMajor } from './tools.ts';

export type { PgMajor } from './tools.ts';

export interface StartPostgresOptions {
  /** 15 (default, or env LOKDARPAN_PG_MAJOR) or 18. */
  major?: PgMajor;
  /** Run from an install tree without pgvector: `CREATE EXTENSION vector` then fails. */
  withoutVector?: boolean;
  /** Extra or overriding postgresql.conf settings (not `port`: a free one is chosen). */
  settings?: Record<string, string | number | boolean>;
  /** How long to wait for the server to accept a login (ms, default 60 000). */
  startTimeoutMs?: number;
}

export interface RoleOptions {
  superuser?: boolean;
  login?: boolean;
  createdb?: boolean;
  createrole?: boolean;
  /** Roles this role becomes a member of. */
  inRoles?: readonly string[];
}

export interface CreateDatabaseOptions {
  /** Database name (default: a random `t_<hex>`). */
  name?: string;
  /** Also run `CREATE EXTENSION vector` in it as the superuser. */
  withVector?: boolean;
  /** Create a NON-superuser login role owning the database (default true); false: owned by postgres. */
  withOwnerRole?: boolean;
}

export interface TestDatabase {
  readonly name: string;
  /** postgres:// URL as the superuser. */
  readonly url: string;
  /** postgres:// URL as the owner role (the superuser's when `withOwnerRole: false`). */
  readonly appUrl: string;
  readonly appUser: string;
  readonly appPassword: string;
  adminConfig(): ClientConfig;
  appConfig(): ClientConfig;
  /** Drops the database (terminating its sessions) and its owner role. */
  drop(): Promise<void>;
}

export interface PostgresServer {
  readonly major: PgMajor;
  /** `SHOW server_version`, e.g. "15.18 (Debian 15.18-0+deb12u1)" or "18.3". */
  readonly version: string;
  readonly host: string;
  readonly port: number;
  /** The unix socket directory. */
  readonly socketDir: string;
  /** Where postgres, psql, pg_dump, pg_restore of this major are. */
  readonly binDir: string;
  readonly dataDir: string;
  readonly logFile: string;
  readonly superuser: { readonly user: string; readonly password: string };
  readonly withoutVector: boolean;
  /** A `pg` client config for the superuser (database default `postgres`). */
  adminConfig(database?: string): ClientConfig;
  /** postgres:// URL for any user/password/database on this server. */
  url(user: string, password: string, database: string): string;
  /** PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE for the CLI tools (superuser unless a user is given). */
  cliEnv(database?: string, user?: { user: string; password: string }): Record<string, string>;
  /** Runs SQL as the superuser in `database` (default `postgres`). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params?: unknown[],
    database?: string,
  ): Promise<pg.QueryResult<R>>;
  createDatabase(opts?: CreateDatabaseOptions): Promise<TestDatabase>;
  createRole(name: string, password: string, opts?: RoleOptions): Promise<void>;
  stop(): Promise<void>;
}

/** The major a suite runs on by default: env LOKDARPAN_PG_MAJOR (15 or 18), else 15. */
export function defaultPgMajor(): PgMajor {
  const raw = process.env['LOKDARPAN_PG_MAJOR'];
  if (raw === undefined || raw === '') return 15;
  if (raw === '15' || raw === '18') return Number(raw) as PgMajor;
  throw new Error(`LOKDARPAN_PG_MAJOR must be 15 or 18, got ${JSON.stringify(raw)}`);
}

/** The other supported major (for suites that also run on the second one). */
export function otherPgMajor(major: PgMajor = defaultPgMajor()): PgMajor {
  return major === 15 ? 18 : 15;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function postgresIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined; // not root: run as ourselves
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error('running as root but there is no `postgres` user to run initdb as (initdb refuses root)');
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function chownTree(path: string, ids: { uid: number; gid: number } | undefined): void {
  if (!ids) return;
  chownSync(path, ids.uid, ids.gid);
}

const settingsFor = (socketDir: string): Record<string, string | number | boolean> => ({
  listen_addresses: '127.0.0.1',
  unix_socket_directories: socketDir,
  max_connections: 100,
  // Throwaway data on a 24 GiB / 2-core machine that may run a few clusters and a Go build at once.
  fsync: false,
  synchronous_commit: false,
  full_page_writes: false,
  shared_buffers: '256MB',
  work_mem: '16MB',
  maintenance_work_mem: '1GB',
  effective_cache_size: '4GB',
  max_wal_size: '2GB',
  checkpoint_timeout: '30min',
  max_worker_processes: 8,
  max_parallel_workers: 2,
  max_parallel_workers_per_gather: 2,
  max_parallel_maintenance_workers: 2,
  jit: false,
  timezone: 'UTC',
  password_encryption: 'scram-sha-256',
  log_min_messages: 'warning',
  log_line_prefix: '%m [%p] %q%u@%d ',
});

function confValue(value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (typeof value === 'number') return String(value);
  return quoteLiteral(value);
}

function run(command: string, args: string[], ids: { uid: number; gid: number } | undefined, cwd: string): void {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' },
    ...(ids ? { uid: ids.uid, gid: ids.gid } : {}),
  });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr || result.stdout}`,
    );
  }
}

/**
 * Builds an install tree whose `postgres` binary finds a share dir without pgvector: PostgreSQL locates
 * its share and library dirs relative to its own (symlink-resolved) executable, so the binary is
 * hard-linked or copied and the rest symlinked, except the extension files of `vector`.
 */
function buildTreeWithoutVector(binDir: string, root: string): string {
  const { shareDir, pkglibDir } = pgInstallDirs(binDir);
  const parts = (p: string): string[] => p.split(sep).filter(Boolean);
  const all = [parts(binDir), parts(shareDir), parts(pkglibDir)];
  let common = 0;
  while (all.every((p) => p[common] !== undefined && p[common] === all[0]![common])) common++;
  const tail = (p: string[]): string => join(root, ...p.slice(common));
  const [binTail, shareTail, libTail] = all.map(tail) as [string, string, string];

  mkdirSync(binTail, { recursive: true });
  try {
    linkSync(join(binDir, 'postgres'), join(binTail, 'postgres'));
  } catch {
    copyFileSync(join(binDir, 'postgres'), join(binTail, 'postgres'));
  }
  mkdirSync(join(shareTail, 'extension'), { recursive: true });
  for (const entry of readdirSync(shareDir)) {
    if (entry !== 'extension') symlinkSync(join(shareDir, entry), join(shareTail, entry));
  }
  const isVector = (file: string): boolean => /^vector(--.*)?\.(control|sql)$/.test(file);
  for (const entry of readdirSync(join(shareDir, 'extension'))) {
    if (!isVector(entry)) symlinkSync(join(shareDir, 'extension', entry), join(shareTail, 'extension', entry));
  }
  mkdirSync(join(libTail, '..'), { recursive: true });
  symlinkSync(pkglibDir, libTail);
  return binTail;
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const major = options.major ?? defaultPgMajor();
  const binDir = pgBinDir(major);
  const withoutVector = options.withoutVector ?? false;
  const ids = postgresIds();
  const dir = await makeTempDir(`pg${major}`);
  chownTree(dir, ids);
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const host = '127.0.0.1';
  const superuser = { user: 'postgres', password: randomBytes(18).toString('base64url') };

  let proc: ManagedProcess | undefined;
  let admin: pg.Client | undefined;
  const registry = {
    kill: (): void => {
      const child = proc?.child;
      if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        // Immediate shutdown: the postmaster takes its children down, then exits; only then is the
        // data dir quiet enough to remove.
        child.kill('SIGQUIT');
        if (!waitForExitSync(child.pid, 5_000)) child.kill('SIGKILL');
      }
      if (!process.env['LOKDARPAN_KEEP_TMP']) rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 50 });
    },
  };
  const unregister = registerCleanup(registry.kill);

  try {
    const pwfile = join(dir, 'pwfile');
    writeFileSync(pwfile, `${superuser.password}\n`, { mode: 0o600 });
    chownTree(pwfile, ids);
    run(
      join(binDir, 'initdb'),
      [
        '-D', dataDir, '-U', superuser.user, `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C.UTF-8',
        '--auth-local=scram-sha-256', '--auth-host=scram-sha-256', '--no-sync', '--no-instructions',
      ],
      ids,
      dir,
    );
    rmSync(pwfile);

    writeFileSync(
      join(dataDir, 'pg_hba.conf'),
      [
        '# lokdarpan-operator test environment: passwords (scram-sha-256) everywhere',
        'local all all scram-sha-256',
        'host all all 127.0.0.1/32 scram-sha-256',
        'host all all ::1/128 scram-sha-256',
        '',
      ].join('\n'),
    );
    chownTree(join(dataDir, 'pg_hba.conf'), ids);

    let serverBin = binDir;
    if (withoutVector) {
      serverBin = buildTreeWithoutVector(binDir, join(dir, 'install-without-vector'));
    }
    const conf = join(dataDir, 'postgresql.conf');
    appendFileSync(
      conf,
      '\n# lokdarpan-operator test environment\n' +
        Object.entries({ ...settingsFor(dir), ...options.settings })
          .filter(([k]) => k !== 'port')
          .map(([k, v]) => `${k} = ${confValue(v)}`)
          .join('\n') + '\n',
    );
    // A free port can be taken between the check and postgres binding it: then try another one.
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      appendFileSync(conf, `port = ${port}\n`); // the last setting in the file wins
      const started = startProcess(`PostgreSQL ${major}`, join(serverBin, 'postgres'), ['-D', dataDir], logFile, {
        cwd: dir,
        env: { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' },
        ...(ids ? { uid: ids.uid, gid: ids.gid } : {}),
      });
      proc = started;
      chownTree(logFile, ids);
      const probePort = port;
      try {
        await untilReadyOrExit(
          started,
          async () => {
            const client = new pg.Client({
              host, port: probePort, user: superuser.user, password: superuser.password, database: 'postgres',
              connectionTimeoutMillis: 2000,
            });
            try {
              await client.connect();
              await client.query('SELECT 1');
              return true;
            } finally {
              await client.end().catch(() => undefined);
            }
          },
          options.startTimeoutMs ?? 60_000,
          () => `PostgreSQL ${major} did not accept a login on ${host}:${probePort}\n${started.tail()}`,
        );
        break;
      } catch (error) {
        if (error instanceof ProcessExitedError && attempt < 3 && /could not bind|already in use/i.test(error.log)) continue;
        throw error;
      }
    }
    const started = proc;
    const adminConfig = (database = 'postgres'): ClientConfig => ({
      host,
      port,
      user: superuser.user,
      password: superuser.password,
      database,
    });

    const adminClient = new pg.Client(adminConfig());
    await adminClient.connect();
    adminClient.on('error', () => undefined); // the server going away at stop() is expected
    admin = adminClient;
    const version = (await adminClient.query<{ server_version: string }>('SHOW server_version')).rows[0]!
      .server_version;

    const url = (user: string, password: string, database: string): string =>
      `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}`;

    const query = async <R extends pg.QueryResultRow = pg.QueryResultRow>(
      sql: string,
      params: unknown[] = [],
      database = 'postgres',
    ): Promise<pg.QueryResult<R>> => {
      if (database === 'postgres') return adminClient.query<R>(sql, params);
      const client = new pg.Client(adminConfig(database));
      await client.connect();
      try {
        return await client.query<R>(sql, params);
      } finally {
        await client.end();
      }
    };

    const createRole = async (name: string, password: string, opts: RoleOptions = {}): Promise<void> => {
      const flags = [
        opts.login === false ? 'NOLOGIN' : 'LOGIN',
        opts.superuser ? 'SUPERUSER' : 'NOSUPERUSER',
        opts.createdb ? 'CREATEDB' : 'NOCREATEDB',
        opts.createrole ? 'CREATEROLE' : 'NOCREATEROLE',
      ];
      await adminClient.query(`CREATE ROLE ${quoteIdent(name)} ${flags.join(' ')} PASSWORD ${quoteLiteral(password)}`);
      for (const parent of opts.inRoles ?? []) {
        await adminClient.query(`GRANT ${quoteIdent(parent)} TO ${quoteIdent(name)}`);
      }
    };

    const createDatabase = async (opts: CreateDatabaseOptions = {}): Promise<TestDatabase> => {
      const name = opts.name ?? `t_${randomBytes(5).toString('hex')}`;
      const withOwnerRole = opts.withOwnerRole ?? true;
      const appUser = withOwnerRole ? `${name}_owner` : superuser.user;
      const appPassword = withOwnerRole ? randomBytes(18).toString('base64url') : superuser.password;
      if (withOwnerRole) await createRole(appUser, appPassword);
      await adminClient.query(`CREATE DATABASE ${quoteIdent(name)} OWNER ${quoteIdent(appUser)}`);
      if (withOwnerRole) {
        await adminClient.query(`GRANT CREATE, CONNECT, TEMPORARY ON DATABASE ${quoteIdent(name)} TO ${quoteIdent(appUser)}`);
      }
      // PostgreSQL 15+ no longer lets everybody create in `public`: give it to the owner role.
      const inDb = new pg.Client(adminConfig(name));
      await inDb.connect();
      try {
        if (withOwnerRole) await inDb.query(`ALTER SCHEMA public OWNER TO ${quoteIdent(appUser)}`);
        if (opts.withVector) await inDb.query('CREATE EXTENSION IF NOT EXISTS vector');
      } finally {
        await inDb.end();
      }
      const appConfig = (): ClientConfig => ({ host, port, user: appUser, password: appPassword, database: name });
      return {
        name,
        url: url(superuser.user, superuser.password, name),
        appUrl: url(appUser, appPassword, name),
        appUser,
        appPassword,
        adminConfig: () => adminConfig(name),
        appConfig,
        drop: async () => {
          await adminClient.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
          if (withOwnerRole) await adminClient.query(`DROP ROLE IF EXISTS ${quoteIdent(appUser)}`);
        },
      };
    };

    let stopped: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopped ??= (async () => {
        await adminClient.end().catch(() => undefined);
        if (started.child.exitCode === null && started.child.signalCode === null) {
          started.child.kill('SIGINT'); // fast shutdown: does not wait for clients to disconnect
          const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000).unref());
          if ((await Promise.race([started.exited, timeout])) === 'timeout') await started.stop(1_000);
        }
        unregister();
        if (!process.env['LOKDARPAN_KEEP_TMP']) rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 50 });
      })();
      return stopped;
    };

    return {
      major,
      version,
      host,
      port,
      socketDir: dir,
      binDir,
      dataDir,
      logFile,
      superuser,
      withoutVector,
      adminConfig,
      url,
      cliEnv: (database = 'postgres', user = superuser) => ({
        PGHOST: host,
        PGPORT: String(port),
        PGUSER: user.user,
        PGPASSWORD: user.password,
        PGDATABASE: database,
      }),
      query,
      createDatabase,
      createRole,
      stop,
    };
  } catch (error) {
    await admin?.end().catch(() => undefined);
    registry.kill();
    unregister();
    throw error;
  }
}
