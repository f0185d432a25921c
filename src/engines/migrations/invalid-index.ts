// Finds an INVALID index left behind by a failed or killed CREATE INDEX CONCURRENTLY (which IF NOT EXISTS
// would silently keep) and drops it with DROP INDEX CONCURRENTLY, so the build really runs again.
import { quoteIdent, type Queryable } from '../../adapters/postgres/session.ts';
import { stripComments } from './format.ts';

/** Splits `a.b` / `"A"."b"` into unquoted parts (unquoted names fold to lower case, like PostgreSQL). */
export function parseQualifiedName(text: string): { schema?: string; name: string } {
  const parts: string[] = [];
  const re = /\s*(?:"((?:[^"]|"")+)"|([\w$]+))\s*(\.|$)/gy;
  let match: RegExpExecArray | null;
  while ((match = re.exec(text)) !== null) {
    parts.push(match[1] !== undefined ? match[1].replace(/""/g, '"') : match[2]!.toLowerCase());
    if (match[3] === '') break;
  }
  if (parts.length === 2) return { schema: parts[0]!, name: parts[1]! };
  if (parts.length === 1) return { name: parts[0]! };
  throw new Error(`cannot read an index name from "${text}"`);
}

/** The `ON [ONLY] table` of a CREATE INDEX statement, as written. */
export function indexTableName(sql: string): string | undefined {
  const match = /\son\s+(?:only\s+)?((?:"(?:[^"]|"")+"|[\w$]+)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[\w$]+))?)/i.exec(stripComments(sql));
  return match?.[1];
}

/**
 * Drops the index named in `createSql` when it exists and `pg_index.indisvalid` is false; returns its
 * qualified name when it dropped one. An unqualified index lives in its table's schema.
 */
export async function dropInvalidIndex(q: Queryable, indexText: string, createSql: string): Promise<string | undefined> {
  const index = parseQualifiedName(indexText);
  const table = indexTableName(createSql);
  const { rows } = await q.query<{ nspname: string; relname: string; indisvalid: boolean }>(
    `SELECT n.nspname, c.relname, i.indisvalid
       FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relname = $1
        AND n.oid = COALESCE((SELECT oid FROM pg_namespace WHERE nspname = $2),
                             (SELECT relnamespace FROM pg_class WHERE oid = to_regclass($3)))`,
    [index.name, index.schema ?? null, table ?? ''],
  );
  const row = rows[0];
  if (!row || row.indisvalid) return undefined;
  const qualified = `${quoteIdent(row.nspname)}.${quoteIdent(row.relname)}`;
  await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${qualified}`);
  return qualified;
}
