// Creating a new database for a restore as a role that is not a superuser: what the archive needs
// (its table of contents, from `pg_restore -l`), what the role and the server allow (CREATEDB, the
// extensions in template1, trusted extensions), creating the database from a chosen template, the
// extensions of an existing database that another role owns, and a restore list without the extension
// entries a superuser already provided.
import { spawn } from 'node:child_process';
import type { Duplex, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { OperatorError } from '../../errors.ts';
import { PgDumpReasons } from './reasons.ts';
import { describeTarget, pgClientConfig, pgToolEnv, withDatabase, type PgTarget } from './target.ts';
import { quoteIdent } from './session.ts';
import type { PgTool } from './binaries.ts';

/** Extensions a custom-format archive creates, from its `pg_restore -l` listing. */
export function archiveExtensions(listing: string): string[] {
  const names = new Set<string>();
  for (const line of listing.split('\n')) {
    const match = /^\s*\d+;\s+\d+\s+\d+\s+EXTENSION\s+\S+\s+(\S+)/.exec(line);
    if (match?.[1] !== undefined) names.add(match[1]);
  }
  return [...names].sort();
}

/** The listing with the EXTENSION and COMMENT ON EXTENSION entries of `names` commented out (for --use-list). */
export function listingWithout(listing: string, names: readonly string[]): string {
  const skip = new Set(names);
  return listing
    .split('\n')
    .map((line) => {
      const ext = /^\s*\d+;\s+\d+\s+\d+\s+EXTENSION\s+\S+\s+(\S+)/.exec(line)?.[1];
      const comment = /^\s*\d+;\s+\d+\s+\d+\s+COMMENT\s+\S+\s+EXTENSION\s+(\S+)/.exec(line)?.[1];
      return (ext !== undefined && skip.has(ext)) || (comment !== undefined && skip.has(comment)) ? `;${line}` : line;
    })
    .join('\n');
}

/**
 * `pg_restore --list` over the start of an archive stream (the chain `streams` ends in the archive's
 * bytes): the table of contents sits at the front of a custom-format archive, so only that much is
 * read; the chain is destroyed afterwards.
 */
export async function listArchive(tool: PgTool, streams: ReadonlyArray<Readable | Duplex>): Promise<string> {
  const child = spawn(tool.path, ['--list'], { env: pgToolEnv({ host: 'localhost', user: 'postgres', database: 'postgres' }, process.env, 'lokdarpan-restore'), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4096)));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  // pg_restore exits after the table of contents; the rest of the chain then fails with EPIPE.
  const piping = pipeline([...streams, child.stdin] as [Readable, ...Duplex[], Writable]).then(() => undefined, (error: unknown) => error);
  let code: number | null;
  try {
    code = await exited;
  } catch (error) {
    throw new OperatorError(PgDumpReasons.RestoreFailed, `pg_restore --list could not run (${tool.path}): ${(error as Error).message}`);
  } finally {
    for (const stream of streams) stream.destroy();
  }
  const pipeError = await piping;
  if (code !== 0) {
    if (pipeError instanceof OperatorError) throw pipeError;
    throw new OperatorError(PgDumpReasons.RestoreFailed, `pg_restore --list exited with code ${code}: ${stderr.trim().split('\n').slice(-2).join(' | ')}`);
  }
  return stdout;
}

export interface RoleFacts {
  user: string;
  superuser: boolean;
  createdb: boolean;
}

export interface ServerExtension {
  name: string;
  /** Any available version is marked trusted (a database owner may create it). */
  trusted: boolean;
}

export interface CreationFacts {
  role: RoleFacts;
  /** Extensions the server has installed files for. */
  available: ServerExtension[];
  /** Extensions already created in template1 (copied into a database made from it). */
  template1Extensions: string[];
  /** User objects in template1 other than extension members; they would clash with the restore. */
  template1UserObjects: number;
}

function failure(operation: string, target: PgTarget, error: unknown): OperatorError {
  if (error instanceof OperatorError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new OperatorError(PgDumpReasons.DatabaseUnavailable, `${operation} on ${describeTarget(target)}: ${message}`, { cause: error });
}

/** A session of `target` for `fn`, always closed; a failure names the operation and the target. */
export async function withSession<T>(target: PgTarget, operation: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(pgClientConfig(target, 'lokdarpan-restore'));
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await fn(client);
  } catch (error) {
    throw failure(operation, target, error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const TEMPLATE1_USER_OBJECTS_SQL = `
SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`;

/** What `target`'s role may do on its server, and what template1 holds (connects to `maintenance` and template1). */
export async function inspectCreation(target: PgTarget, maintenance = 'postgres'): Promise<CreationFacts> {
  const { role, available } = await withSession(withDatabase(target, maintenance), 'check privileges', async (client) => {
    const r = await client.query<{ user: string; superuser: boolean; createdb: boolean }>(
      'SELECT current_user AS user, rolsuper AS superuser, rolcreatedb AS createdb FROM pg_roles WHERE rolname = current_user',
    );
    const e = await client.query<ServerExtension>('SELECT name, bool_or(trusted) AS trusted FROM pg_available_extension_versions GROUP BY name');
    const row = r.rows[0];
    return { role: { user: row?.user ?? target.user, superuser: row?.superuser === true, createdb: row?.createdb === true }, available: e.rows };
  });
  const template1 = await withSession(withDatabase(target, 'template1'), 'inspect template1', async (client) => {
    const e = await client.query<{ extname: string }>('SELECT extname FROM pg_extension ORDER BY 1');
    const o = await client.query<{ n: string }>(TEMPLATE1_USER_OBJECTS_SQL);
    return { extensions: e.rows.map((row) => row.extname), userObjects: Number(o.rows[0]?.n ?? 0) };
  });
  return { role, available, template1Extensions: template1.extensions, template1UserObjects: template1.userObjects };
}

/** Whether `role` may create a database owned by `owner` (itself, a role it is a member of, or as a superuser). */
export async function canCreateOwnedBy(admin: PgTarget, owner: string, maintenance = 'postgres'): Promise<boolean> {
  return withSession(withDatabase(admin, maintenance), 'check role membership', async (client) => {
    const { rows } = await client.query<{ ok: boolean | null }>(
      `SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) OR current_user = $1 OR pg_has_role(current_user, $1, 'MEMBER') AS ok
       WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`,
      [owner],
    );
    return rows[0]?.ok === true;
  });
}

/** CREATE DATABASE `name` TEMPLATE `template` [OWNER `owner`], connected as `creator`. */
export async function createDatabaseFrom(creator: PgTarget, name: string, options: { template: 'template0' | 'template1'; owner?: string }, maintenance = 'postgres'): Promise<void> {
  const owner = options.owner === undefined ? '' : ` OWNER ${quoteIdent(options.owner)}`;
  await withSession(withDatabase(creator, maintenance), 'create database', (client) => client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${options.template}${owner}`));
}

export interface ForeignExtension {
  name: string;
  owner: string;
  version: string;
  /** The version CREATE EXTENSION would install on this server (null: its files are gone). */
  defaultVersion: string | null;
}

/**
 * Extensions in `target.database` that `target`'s role does not own (nor inherits the owner's rights):
 * it may not drop them or comment on them. None for a superuser.
 */
export async function extensionsOwnedByOthers(target: PgTarget): Promise<ForeignExtension[]> {
  return withSession(target, 'inspect extensions', async (client) => {
    const { rows } = await client.query<ForeignExtension>(
      `SELECT e.extname AS name, pg_get_userbyid(e.extowner) AS owner, e.extversion AS version, a.default_version AS "defaultVersion"
       FROM pg_extension e LEFT JOIN pg_available_extensions a ON a.name = e.extname
       WHERE NOT pg_has_role(current_user, e.extowner, 'USAGE') ORDER BY 1`,
    );
    return rows;
  });
}

/** CREATE EXTENSION IF NOT EXISTS for each name, in `target.database`. */
export async function createExtensions(target: PgTarget, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await withSession(target, 'create extensions', async (client) => {
    for (const name of names) await client.query(`CREATE EXTENSION IF NOT EXISTS ${quoteIdent(name)}`);
  });
}
