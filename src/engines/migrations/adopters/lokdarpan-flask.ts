// Adopts a database built by the LokDarpan Flask app (Alembic): it has `alembic_version` and the base
// tables of migrations 001..003. Those are recorded as adopted; an optional fix-up SQL file brings
// what the Alembic chain left out (e.g. post.party) to the shape of 003 in the same transaction.
import { readFile } from 'node:fs/promises';
import type { Queryable } from '../../../adapters/postgres/session.ts';
import type { Adopter } from '../adoption.ts';

/** Base tables (schema public) that a Flask-era LokDarpan database always has. */
export const FLASK_BASE_TABLES = [
  'user', 'author', 'epaper', 'post', 'alert', 'election', 'polling_station',
  'result_ps', 'result_ward_agg', 'ward_profile', 'ward_demographics', 'ward_features',
] as const;

/** Columns 004/005 build on that every Flask revision had. */
export const FLASK_REQUIRED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  post: ['id', 'text', 'author_id', 'city', 'emotion', 'created_at'],
  author: ['id', 'name'],
};

export interface FlaskAdopterOptions {
  /** Migration the Flask schema corresponds to; a name or a prefix. Default "003". */
  baselineThrough?: string;
  /** SQL run in the adoption transaction when the file exists (e.g. `migrations/adopt/lokdarpan-flask.sql`). */
  fixupSqlPath?: string;
}

export function lokdarpanFlaskAdopter(options: FlaskAdopterOptions = {}): Adopter {
  const adopter: Adopter = {
    name: 'lokdarpan-flask',
    baselineThrough: options.baselineThrough ?? '003',
    async detect(q) {
      const { rows } = await q.query<{ found: boolean }>("SELECT to_regclass('public.alembic_version') IS NOT NULL AS found");
      return rows[0]?.found === true;
    },
    async verify(q) {
      const problems: string[] = [];
      const { rows: version } = await q.query<{ n: string }>('SELECT count(*) AS n FROM public.alembic_version');
      if (Number(version[0]?.n ?? 0) === 0) problems.push('alembic_version has no row');
      // pg_catalog, not information_schema: the latter hides tables the role has no privilege on.
      const { rows } = await q.query<{ relname: string }>(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname = ANY($1)",
        [[...FLASK_BASE_TABLES]],
      );
      const present = new Set(rows.map((r) => r.relname));
      const missing = FLASK_BASE_TABLES.filter((t) => !present.has(t));
      if (missing.length > 0) problems.push(`missing base table(s): ${missing.join(', ')}`);
      for (const [table, columns] of Object.entries(FLASK_REQUIRED_COLUMNS)) {
        if (!present.has(table)) continue;
        const { rows: cols } = await q.query<{ attname: string }>(
          "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass('public.' || quote_ident($1)) AND attnum > 0 AND NOT attisdropped",
          [table],
        );
        const have = new Set(cols.map((c) => c.attname));
        const lacking = columns.filter((c) => !have.has(c));
        if (lacking.length > 0) problems.push(`table ${table} lacks column(s) ${lacking.join(', ')}`);
      }
      return problems;
    },
  };
  const path = options.fixupSqlPath;
  if (path !== undefined) {
    adopter.fixup = async (q: Queryable) => {
      let sql: string;
      try {
        sql = await readFile(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      await q.query(sql);
    };
  }
  return adopter;
}
