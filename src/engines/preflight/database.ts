// The database checks, on one read-only session: what server major pg_dump must match, the first
// relation pg_dump would dump that the role may not read (has_table_privilege / has_schema_privilege
// over the catalog, the way pg_dump picks what it dumps), and for retention the privileges its rules
// need on their tables. Only catalog reads; nothing is locked or written.
import type { Queryable } from '../../adapters/postgres/session.ts';
import { OperatorError } from '../../errors.ts';
import type { RetentionRule } from '../retention/rules.ts';
import { PreflightReasons } from './reasons.ts';

/**
 * Ordinary and partitioned tables and sequences outside the system schemas that are not members of an
 * extension: pg_dump locks and reads each of them (and the snapshot session counts the tables' rows).
 * A schema without USAGE makes every relation in it unreadable; pg_dump runs with row_security off, so
 * a table whose row-level security applies to the role makes it fail too.
 */
const UNREADABLE_SQL = `
WITH me AS (SELECT rolsuper OR rolbypassrls AS bypass FROM pg_catalog.pg_roles WHERE rolname = current_user)
SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind,
       CASE WHEN NOT has_schema_privilege(n.oid, 'USAGE') THEN 'usage'
            WHEN NOT has_table_privilege(c.oid, 'SELECT') THEN 'select'
            ELSE 'rls' END AS why,
       count(*) OVER () AS total
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace, me
 WHERE c.relkind IN ('r', 'p', 'S')
   AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                    WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
   AND (NOT has_schema_privilege(n.oid, 'USAGE') OR NOT has_table_privilege(c.oid, 'SELECT')
        OR (c.relrowsecurity AND NOT me.bypass AND (c.relforcerowsecurity OR NOT pg_has_role(c.relowner, 'USAGE'))))
 ORDER BY n.nspname, c.relname
 LIMIT 1`;

export interface DumpAccess {
  serverMajor: number;
  serverVersion: string;
}

/** Throws TableNotReadable naming the first relation pg_dump could not read. */
export async function checkDumpAccess(db: Queryable): Promise<DumpAccess> {
  const version = await db.query<{ num: string; version: string }>(`SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS version`);
  const row = version.rows[0];
  const num = Number(row?.num ?? 0);
  const denied = await db.query<{ schema: string; name: string; kind: string; why: 'usage' | 'select' | 'rls'; total: string }>(UNREADABLE_SQL);
  const first = denied.rows[0];
  if (first !== undefined) {
    const what = `${first.kind === 'S' ? 'sequence' : 'table'} ${first.schema}.${first.name}`;
    const others = Number(first.total) - 1;
    const why = {
      usage: `has no USAGE on schema ${first.schema} (table ${first.schema}.${first.name})`,
      select: `may not SELECT ${what}`,
      rls: `is subject to row-level security on ${what}`,
    }[first.why];
    throw new OperatorError(
      PreflightReasons.TableNotReadable,
      `the database role ${why}${others > 0 ? ` (and ${others} more)` : ''}: pg_dump would fail; GRANT SELECT (or USAGE on the schema, or BYPASSRLS) to the backup role`,
      { details: { schema: first.schema, table: first.name } },
    );
  }
  return { serverMajor: Math.floor(num / 10000), serverVersion: (row?.version ?? '').split(' ')[0] ?? '' };
}

const PRIVILEGES: Record<RetentionRule['action'], readonly string[]> = {
  delete: ['SELECT', 'DELETE'],
  archive: ['SELECT', 'DELETE'],
  mark: ['SELECT', 'UPDATE'],
};

/** Throws TableNotReadable naming the first rule whose table the role may not read or change as the rule needs. */
export async function checkRulePrivileges(db: Queryable, rules: readonly RetentionRule[]): Promise<void> {
  for (const rule of rules) {
    const table = `${rule.schema ?? 'public'}.${rule.table}`;
    for (const privilege of PRIVILEGES[rule.action]) {
      const r = await db.query<{ ok: boolean }>(`SELECT has_table_privilege(to_regclass($1), $2) AS ok`, [quoteQualified(rule.schema ?? 'public', rule.table), privilege]);
      if (r.rows[0]?.ok !== true) {
        throw new OperatorError(PreflightReasons.TableNotReadable, `retention rule "${rule.name}": the database role may not ${privilege} on ${table}`, {
          details: { rule: rule.name, table },
        });
      }
    }
  }
}

function quoteQualified(schema: string, table: string): string {
  return `"${schema.replace(/"/g, '""')}"."${table.replace(/"/g, '""')}"`;
}
