// Scoped use of a PostgreSQL session: `withClient` opens and always closes one, `withTransaction` runs a
// function inside BEGIN/COMMIT and rolls back when it throws.
import type pg from 'pg';
import type { ConnectOptions, PgConnector } from './connection.ts';

/** The part of a node-postgres client that the engines use; a fake can implement it in unit tests. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export async function withClient<T>(connector: PgConnector, fn: (client: pg.Client) => Promise<T>, options?: ConnectOptions): Promise<T> {
  const client = await connector.connect(options);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** BEGIN, fn, COMMIT; ROLLBACK (and rethrow) when fn or COMMIT fails. */
export async function withTransaction<T>(client: Queryable, fn: (client: Queryable) => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  let result: T;
  try {
    result = await fn(client);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
  await client.query('COMMIT');
  return result;
}

/** SQLSTATE of a server error, if it is one. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof (error as { code: unknown }).code === 'string') {
    return (error as { code: string }).code;
  }
  return undefined;
}

/** Double-quotes an identifier for SQL text (for names that cannot be bind parameters). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
