// Shared by the backup integration tests: a small database with awkward parts (a table named "user",
// a vector column, bytea, a sequence, an index, a materialized view, a second schema), S3 destinations
// over the test SeaweedFS servers, and a few helpers.
import assert from 'node:assert/strict';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import type { PostgresServer, TestDatabase } from '../env/postgres.ts';
import type { S3Server } from '../env/s3.ts';
import { S3ObjectStore } from '../../src/adapters/s3/index.ts';
import { pgBackupSource, type PgTarget } from '../../src/adapters/pgdump/index.ts';
import { runBackup, type BackupOptions, type BackupResult } from '../../src/engines/backup/index.ts';
import type { Clock } from '../../src/clock.ts';
import { isOperatorError } from '../../src/errors.ts';

export const EXPECTED_TABLES = ['app.audit', 'public.post', 'public.user'];

/** Creates and fills the fixture schema; `vector` decides whether an embedding column is included. */
export async function fillDatabase(pg: PostgresServer, db: TestDatabase, options: { vector: boolean; rows?: number }): Promise<void> {
  const rows = options.rows ?? 2000;
  const sql = `
    CREATE TABLE "user" (id serial PRIMARY KEY, email text NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now());
    CREATE TABLE post (id bigserial PRIMARY KEY, user_id int REFERENCES "user"(id), city text, body text, blob bytea${options.vector ? ', embedding vector(3)' : ''});
    CREATE INDEX post_city_idx ON post (city);
    CREATE SCHEMA app;
    CREATE TABLE app.audit (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text);
    INSERT INTO "user" (email) SELECT 'u' || g || '@example.org' FROM generate_series(1, ${Math.ceil(rows / 10)}) g;
    INSERT INTO post (user_id, city, body, blob${options.vector ? ', embedding' : ''})
      SELECT 1 + g % ${Math.ceil(rows / 10)}, 'ward-' || (g % 37), repeat(md5(g::text), 8), decode(md5(g::text), 'hex')
      ${options.vector ? ", ('[' || (g % 7) || ',' || (g % 11) || ',' || (g % 13) || ']')::vector" : ''}
      FROM generate_series(1, ${rows}) g;
    INSERT INTO app.audit (note) SELECT 'n' || g FROM generate_series(1, 37) g;
    CREATE MATERIALIZED VIEW ward_counts AS SELECT city, count(*) AS n FROM post GROUP BY city;
  `;
  await pg.query(sql, [], db.name);
}

/** A PgTarget for the superuser (the fixture's vector extension needs one to be recreated). */
/** For assert.rejects: the error is an OperatorError with `expected` as its reason (and a message matching `message`). */
export const operatorErrorWith = (expected: string, message?: RegExp) => (e: unknown): boolean => {
  assert.ok(isOperatorError(e), `expected an OperatorError, got ${String(e)}`);
  assert.equal(e.reason, expected, e.message);
  if (message !== undefined) assert.match(e.message, message);
  return true;
};

/**
 * A database owned by postgres, filled like fillDatabase (no vectors) plus a table `noise` of
 * `noiseRows` rows of 64 random bytes each (incompressible: about 64 bytes a row in the dump), so that a
 * backup is large enough to go multipart.
 */
export async function noisyDatabase(pg: PostgresServer, options: { rows: number; noiseRows: number }): Promise<TestDatabase> {
  const db = await pg.createDatabase({ withVector: false, withOwnerRole: false });
  await fillDatabase(pg, db, { vector: false, rows: options.rows });
  await pg.query(
    `CREATE TABLE noise AS SELECT g AS id, decode(md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text), 'hex') AS b
     FROM generate_series(1, ${options.noiseRows}) g`,
    [],
    db.name,
  );
  return db;
}

export function adminTarget(pg: PostgresServer, database: string): PgTarget {
  return { host: pg.host, port: pg.port, user: pg.superuser.user, password: pg.superuser.password, database };
}

/**
 * A backup of `target` (pg_dump from `pg`'s binaries) into `primary`, encrypted to `recipient`, named
 * database "lokdarpan", in 5 MiB parts; `overrides` add replicas, ids, faults' limits and the like.
 */
export function backupTo(
  parts: { pg: PostgresServer; target: PgTarget; primary: S3ObjectStore; recipient: string; clock: Clock },
  overrides: Partial<BackupOptions> = {},
): Promise<BackupResult> {
  return runBackup({
    source: pgBackupSource(parts.target, { binDirs: { [parts.pg.major]: parts.pg.binDir } }),
    primary: parts.primary,
    recipients: [parts.recipient],
    database: 'lokdarpan',
    partSize: 5 * 1024 * 1024,
    clock: parts.clock,
    ...overrides,
  });
}

export function storeOn(server: S3Server, name: string, bucket: string, prefix = 'lokdarpan/test/'): S3ObjectStore {
  const c = server.connection();
  return new S3ObjectStore({
    name,
    bucket,
    prefix,
    endpoint: c.endpoint,
    region: c.region,
    forcePathStyle: true,
    credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey },
    checksums: 'WHEN_REQUIRED',
  });
}

export async function keysIn(store: S3ObjectStore, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(store.key(prefix))) keys.push(o.key);
  return keys.sort();
}

export async function openMultipartUploads(store: S3ObjectStore): Promise<number> {
  const r = await store.client.send(new ListMultipartUploadsCommand({ Bucket: store.bucket }));
  return r.Uploads?.length ?? 0;
}

export async function rowCounts(pg: PostgresServer, database: string): Promise<Record<string, number>> {
  const { rows } = await pg.query<{ t: string; n: string }>(
    `SELECT 'public.user' AS t, count(*) AS n FROM "user" UNION ALL SELECT 'public.post', count(*) FROM post UNION ALL SELECT 'app.audit', count(*) FROM app.audit
     UNION ALL SELECT 'ward_counts', count(*) FROM ward_counts`,
    [],
    database,
  );
  return Object.fromEntries(rows.map((r) => [r.t, Number(r.n)]));
}

/** Starts PostgreSQL and two S3 servers in parallel; whatever started is returned even if another part failed. */
export async function startServers(
  started: { pg?: PostgresServer; s3?: { primary: S3Server; secondary: S3Server } },
  startPg: () => Promise<PostgresServer>,
  startS3: () => Promise<{ primary: S3Server; secondary: S3Server }>,
): Promise<{ pg: PostgresServer; s3: { primary: S3Server; secondary: S3Server } }> {
  const [p, s] = await Promise.allSettled([startPg(), startS3()]);
  if (p.status === 'fulfilled') started.pg = p.value;
  if (s.status === 'fulfilled') started.s3 = s.value;
  if (p.status === 'rejected') throw p.reason;
  if (s.status === 'rejected') throw s.reason;
  return { pg: p.value, s3: s.value };
}
