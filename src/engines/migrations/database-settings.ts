// The database-level settings (ALTER DATABASE ... SET) that schema migrations own. They live in
// pg_db_role_setting, outside the database's own catalog, so a plain pg_dump does not carry them and a
// restore into a new database loses them while the history says their migration is applied. This list
// is the one place that names them: the performance validation checks them and a restore re-applies them.
import { quoteIdent, type Queryable } from '../../adapters/postgres/session.ts';
import { DEFAULT_HISTORY_TABLE } from './history.ts';

export interface SchemaDatabaseSetting {
  name: string;
  value: number;
  /** The migration that sets it; the setting belongs to databases where it is applied. */
  migration: string;
  /** Loads the library that defines the setting (a non-superuser may not set an unknown placeholder). */
  load: string;
}

/** migrations/008_hnsw_ef_search.up.sql sets the same value (a SQL file cannot import it; test/integration/schema.test.ts compares). */
export const HNSW_EF_SEARCH_SETTING: SchemaDatabaseSetting = {
  name: 'hnsw.ef_search', value: 300, migration: '008_hnsw_ef_search', load: `SELECT '[1]'::vector`,
};

export const schemaDatabaseSettings: readonly SchemaDatabaseSetting[] = [HNSW_EF_SEARCH_SETTING];

/** The statement that makes `setting` the default of `database` (an identifier, quoted as needed, or a placeholder). */
export function alterDatabaseSet(setting: SchemaDatabaseSetting, database: string): string {
  return `ALTER DATABASE ${database} SET ${setting.name} = ${setting.value}`;
}

export interface AppliedDatabaseSettings {
  /** `name = value` for each setting made for the database. */
  applied: string[];
  /** Settings whose migration is applied but that this role could not make, and why. */
  warnings: string[];
}

/**
 * Makes every setting of `settings` whose migration the database's history records applied, as
 * `ALTER DATABASE <current database> SET`, when the session's role may (owner, member of the owner,
 * superuser); otherwise reports it. A database without the history table gets nothing.
 */
export async function applySchemaDatabaseSettings(
  q: Queryable, settings: readonly SchemaDatabaseSetting[] = schemaDatabaseSettings,
): Promise<AppliedDatabaseSettings> {
  const result: AppliedDatabaseSettings = { applied: [], warnings: [] };
  const { rows: [facts] } = await q.query<{ history: boolean; owner: boolean; database: string }>(
    `SELECT to_regclass($1) IS NOT NULL AS history, current_database() AS database,
            pg_has_role(current_user, (SELECT datdba FROM pg_database WHERE datname = current_database()), 'USAGE')
              OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS owner`,
    [`${quoteIdent(DEFAULT_HISTORY_TABLE.schema)}.${quoteIdent(DEFAULT_HISTORY_TABLE.table)}`],
  );
  if (facts?.history !== true) return result;
  const { rows } = await q.query<{ name: string }>(
    `SELECT name FROM ${quoteIdent(DEFAULT_HISTORY_TABLE.schema)}.${quoteIdent(DEFAULT_HISTORY_TABLE.table)} WHERE name = ANY($1::text[])`, [settings.map((s) => s.migration)]);
  const appliedMigrations = new Set(rows.map((r) => r.name));
  for (const setting of settings.filter((s) => appliedMigrations.has(s.migration))) {
    const statement = alterDatabaseSet(setting, quoteIdent(facts.database));
    if (!facts.owner) {
      result.warnings.push(`${setting.name} (${setting.migration}) is not set: role does not own database ${facts.database}; the owner should run: ${statement}`);
      continue;
    }
    await q.query(setting.load);
    await q.query(statement);
    result.applied.push(`${setting.name} = ${setting.value}`);
  }
  return result;
}
