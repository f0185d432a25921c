// The database side of a backup or restore: a REPEATABLE READ session that exports its snapshot (so
// pg_dump and the per-table row counts see the same data), server facts, the schema version, an
// emptiness check for restore targets, and creating/dropping scratch databases.
import pg from 'pg';
import { OperatorError } from '../../errors.ts';
import { PgDumpReasons } from './reasons.ts';
import { describeTarget, pgClientConfig, withDatabase, type PgTarget } from './target.ts';
import { serverMajorOf } from './binaries.ts';

export interface TableRowCount {
  schema: string;
  table: string;
  rows: number;
}

export interface ServerFacts {
  /** `SHOW server_version`, e.g. "15.14 (Debian 15.14-0+deb12u1)". */
  serverVersion: string;
  serverVersionNum: number;
  serverMajor: number;
}

export interface SnapshotSession extends ServerFacts {
  readonly snapshotId: string;
  /** pg_database_size() of the database (an upper estimate of the dump's size). */
  readonly databaseBytes: number;
  /** Latest applied migration from the schema history table, if there is one. */
  readonly schemaVersion: string | undefined;
  /** Bytes of the user tables (heap and TOAST, no indexes) in the snapshot: about what pg_dump writes. */
  readonly tablesBytes: number;
  /** Exact count(*) of every user table, inside the exported snapshot. */
  countRows(): Promise<TableRowCount[]>;
  /** Ends the transaction and the session (after pg_dump has finished). */
  close(): Promise<void>;
}

export interface SnapshotOptions {
  /** Qualified name of the migrations history table. Default "public.lokdarpan_schema_history". */
  schemaHistoryTable?: string;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const USER_NAMESPACE = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'`;
const NOT_EXTENSION_MEMBER = (cls: string, alias: string): string =>
  `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${cls}'::regclass AND d.objid = ${alias}.oid AND d.deptype = 'e')`;

const USER_TABLES_SQL = `
SELECT n.nspname AS schema, c.relname AS table
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND ${USER_NAMESPACE} AND ${NOT_EXTENSION_MEMBER('pg_class', 'c')}
ORDER BY 1, 2`;

// Both sizes in one round trip: the database's (an upper bound the upload's part size starts from) and
// its user tables' (about what pg_dump writes: the progress estimate).
const SIZES_SQL = `
SELECT pg_database_size(current_database())::text AS database_bytes,
       (SELECT coalesce(sum(pg_table_size(c.oid)), 0)
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'r' AND ${USER_NAMESPACE} AND ${NOT_EXTENSION_MEMBER('pg_class', 'c')})::text AS tables_bytes`;

function unavailable(operation: string, target: PgTarget, error: unknown): OperatorError {
  if (error instanceof OperatorError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new OperatorError(PgDumpReasons.DatabaseUnavailable, `${operation} on ${describeTarget(target)}: ${message}`, { cause: error });
}

async function connect(target: PgTarget, applicationName: string): Promise<pg.Client> {
  const client = new pg.Client(pgClientConfig(target, applicationName));
  client.on('error', () => undefined); // a dropped connection surfaces on the next query
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw unavailable('connect', target, error);
  }
  return client;
}

async function serverFacts(client: pg.Client): Promise<ServerFacts> {
  const { rows } = await client.query<{ v: string; n: string }>(`SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n`);
  const num = Number(rows[0]?.n);
  return { serverVersion: rows[0]?.v ?? '', serverVersionNum: num, serverMajor: serverMajorOf(num) };
}

async function readSchemaVersion(client: pg.Client, table: string): Promise<string | undefined> {
  const { rows } = await client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [table]);
  if (rows[0]?.exists !== true) return undefined;
  const parts = table.split('.').map(quoteIdent).join('.');
  const r = await client.query<{ name: string }>(`SELECT name FROM ${parts} ORDER BY name COLLATE "C" DESC LIMIT 1`);
  return r.rows[0]?.name;
}

async function countTables(client: pg.Client, tables?: ReadonlyArray<{ schema: string; table: string }>): Promise<TableRowCount[]> {
  const list = tables ?? (await client.query<{ schema: string; table: string }>(USER_TABLES_SQL)).rows;
  const counts: TableRowCount[] = [];
  for (const t of list) {
    const exists = await client.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [`${quoteIdent(t.schema)}.${quoteIdent(t.table)}`]);
    if (exists.rows[0]?.ok !== true) {
      counts.push({ schema: t.schema, table: t.table, rows: -1 });
      continue;
    }
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteIdent(t.schema)}.${quoteIdent(t.table)}`);
    counts.push({ schema: t.schema, table: t.table, rows: Number(rows[0]?.n ?? 0) });
  }
  return counts;
}

/** Opens a REPEATABLE READ, READ ONLY transaction and exports its snapshot for pg_dump --snapshot. */
export async function openSnapshotSession(target: PgTarget, options: SnapshotOptions = {}): Promise<SnapshotSession> {
  const client = await connect(target, 'lokdarpan-backup-snapshot');
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const { rows } = await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
    const facts = await serverFacts(client);
    const schemaVersion = await readSchemaVersion(client, options.schemaHistoryTable ?? 'public.lokdarpan_schema_history');
    const sizes = (await client.query<{ database_bytes: string; tables_bytes: string }>(SIZES_SQL)).rows[0];
    let closed = false;
    return {
      ...facts,
      snapshotId: rows[0]?.id as string,
      databaseBytes: Number(sizes?.database_bytes ?? 0),
      schemaVersion,
      tablesBytes: Number(sizes?.tables_bytes ?? 0),
      countRows: async () => {
        try {
          return await countTables(client);
        } catch (error) {
          throw unavailable('count rows', target, error);
        }
      },
      close: async () => {
        if (closed) return;
        closed = true;
        await client.query('ROLLBACK').catch(() => undefined);
        await client.end().catch(() => undefined);
      },
    };
  } catch (error) {
    await client.end().catch(() => undefined);
    throw unavailable('open snapshot', target, error);
  }
}

export interface TargetInspection extends ServerFacts {
  exists: boolean;
  /** User objects (tables, views, sequences, functions, types, schemas other than public), extensions excluded. */
  userObjects: number;
}

const USER_OBJECTS_SQL = `
SELECT
  (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ${USER_NAMESPACE} AND ${NOT_EXTENSION_MEMBER('pg_class', 'c')})
+ (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE ${USER_NAMESPACE} AND ${NOT_EXTENSION_MEMBER('pg_proc', 'p')})
+ (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE t.typtype IN ('e', 'd', 'r', 'm') AND ${USER_NAMESPACE} AND ${NOT_EXTENSION_MEMBER('pg_type', 't')})
+ (SELECT count(*) FROM pg_namespace n
     WHERE ${USER_NAMESPACE} AND n.nspname <> 'public' AND ${NOT_EXTENSION_MEMBER('pg_namespace', 'n')}) AS n`;

/**
 * Server facts and whether `target.database` exists and is empty. Connects to `maintenanceDatabase`
 * (default "postgres") to check existence.
 */
export async function inspectTarget(target: PgTarget, maintenanceDatabase = 'postgres'): Promise<TargetInspection> {
  const admin = await connect(withDatabase(target, maintenanceDatabase), 'lokdarpan-restore');
  let facts: ServerFacts;
  let exists: boolean;
  try {
    facts = await serverFacts(admin);
    const { rows } = await admin.query<{ ok: boolean }>('SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS ok', [target.database]);
    exists = rows[0]?.ok === true;
  } catch (error) {
    throw unavailable('inspect', target, error);
  } finally {
    await admin.end().catch(() => undefined);
  }
  if (!exists) return { ...facts, exists, userObjects: 0 };
  const client = await connect(target, 'lokdarpan-restore');
  try {
    const { rows } = await client.query<{ n: string }>(USER_OBJECTS_SQL);
    return { ...facts, exists, userObjects: Number(rows[0]?.n ?? 0) };
  } catch (error) {
    throw unavailable('inspect', target, error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Exact row counts of the given tables (or all user tables); a missing table counts -1. */
export async function countRows(target: PgTarget, tables?: ReadonlyArray<{ schema: string; table: string }>): Promise<TableRowCount[]> {
  const client = await connect(target, 'lokdarpan-restore-check');
  try {
    return await countTables(client, tables);
  } catch (error) {
    throw unavailable('count rows', target, error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** CREATE DATABASE from template0 (connects to `maintenanceDatabase`). */
export async function createDatabase(target: PgTarget, maintenanceDatabase = 'postgres'): Promise<void> {
  const admin = await connect(withDatabase(target, maintenanceDatabase), 'lokdarpan-restore');
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(target.database)} TEMPLATE template0`);
  } catch (error) {
    throw unavailable('create database', target, error);
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/** DROP DATABASE IF EXISTS ... WITH (FORCE). */
export async function dropDatabase(target: PgTarget, maintenanceDatabase = 'postgres'): Promise<void> {
  const admin = await connect(withDatabase(target, maintenanceDatabase), 'lokdarpan-restore');
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(target.database)} WITH (FORCE)`);
  } catch (error) {
    throw unavailable('drop database', target, error);
  } finally {
    await admin.end().catch(() => undefined);
  }
}
