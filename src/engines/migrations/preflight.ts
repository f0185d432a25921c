// Preflight: before any statement of a migration runs, check the server version, that each required
// extension is available at the required version, and that the role may create it and create objects.
import type { Queryable } from '../../adapters/postgres/session.ts';
import { migrationError } from './errors.ts';

export interface ExtensionRequirement {
  name: string;
  /** Lowest acceptable version, e.g. "0.7.0" (pgvector: halfvec with HNSW). */
  minVersion: string;
  /** Why it is needed, for the message. */
  purpose?: string;
}

export interface PreflightRequirements {
  /** Lowest supported server major version. */
  minServerMajor: number;
  extensions: readonly ExtensionRequirement[];
  /** Schemas the migrations create objects in. */
  schemas: readonly string[];
}

export const LOKDARPAN_REQUIREMENTS: PreflightRequirements = {
  minServerMajor: 15,
  extensions: [{ name: 'vector', minVersion: '0.7.0', purpose: 'halfvec columns with HNSW indexes for 3072-dimension embeddings' }],
  schemas: ['public'],
};

export interface ExtensionCheck {
  name: string;
  installedVersion: string | null;
  defaultVersion: string | null;
  availableVersions: string[];
  /** What the migrations will need to do: nothing (installed), or CREATE EXTENSION. */
  action: 'none' | 'create';
}

export interface PreflightReport {
  serverVersion: string;
  serverMajor: number;
  role: string;
  superuser: boolean;
  database: string;
  extensions: ExtensionCheck[];
}

/** Compares dotted numeric versions ("0.10.0" > "0.7.0"); non-numeric parts compare as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
  const pb = b.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export async function runPreflight(q: Queryable, req: PreflightRequirements): Promise<PreflightReport> {
  const { rows } = await q.query<{ num: number; version: string; role: string; superuser: boolean; db: string; dbcreate: boolean }>(
    `SELECT current_setting('server_version_num')::int AS num, current_setting('server_version') AS version,
            current_user AS role, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
            current_database() AS db, has_database_privilege(current_database(), 'CREATE') AS dbcreate`,
  );
  const info = rows[0]!;
  const major = Math.floor(info.num / 10_000);
  if (major < req.minServerMajor) {
    throw migrationError(
      'UnsupportedServerVersion',
      `PostgreSQL ${info.version} is not supported: the LokDarpan migrations need PostgreSQL ${req.minServerMajor} or newer; upgrade the server`,
      { serverVersion: info.version, minMajor: req.minServerMajor },
    );
  }
  const report: PreflightReport = { serverVersion: info.version, serverMajor: major, role: info.role, superuser: info.superuser, database: info.db, extensions: [] };

  for (const ext of req.extensions) report.extensions.push(await checkExtension(q, ext, info));

  for (const schema of req.schemas) {
    const { rows: s } = await q.query<{ exists: boolean; can: boolean | null }>(
      `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS exists,
              CASE WHEN EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) THEN has_schema_privilege($1, 'CREATE') END AS can`,
      [schema],
    );
    const row = s[0]!;
    const ok = row.exists ? row.can === true : info.dbcreate;
    if (!ok) {
      const what = row.exists ? `CREATE on schema ${schema}` : `CREATE on database ${info.db} (schema ${schema} does not exist yet)`;
      throw migrationError(
        'InsufficientPrivilege',
        `role ${info.role} lacks ${what}; grant it (e.g. GRANT CREATE ON SCHEMA ${schema} TO ${info.role}) or run the migrations as the database owner`,
        { role: info.role, missing: what },
      );
    }
  }
  return report;
}

async function checkExtension(
  q: Queryable,
  ext: ExtensionRequirement,
  info: { role: string; superuser: boolean; db: string; dbcreate: boolean },
): Promise<ExtensionCheck> {
  const purpose = ext.purpose ? ` (${ext.purpose})` : '';
  const { rows: versions } = await q.query<{ version: string; trusted: boolean; superuser: boolean }>(
    'SELECT version, trusted, superuser FROM pg_available_extension_versions WHERE name = $1',
    [ext.name],
  );
  const { rows: installedRows } = await q.query<{ extversion: string }>('SELECT extversion FROM pg_extension WHERE extname = $1', [ext.name]);
  const { rows: defaults } = await q.query<{ default_version: string }>('SELECT default_version FROM pg_available_extensions WHERE name = $1', [ext.name]);
  const installed = installedRows[0]?.extversion ?? null;
  const defaultVersion = defaults[0]?.default_version ?? null;
  const available = versions.map((v) => v.version).sort(compareVersions);
  const check: ExtensionCheck = { name: ext.name, installedVersion: installed, defaultVersion, availableVersions: available, action: 'none' };

  if (installed !== null) {
    if (compareVersions(installed, ext.minVersion) >= 0) return check;
    const upgradable = available.some((v) => compareVersions(v, ext.minVersion) >= 0);
    throw migrationError(
      'ExtensionMissing',
      `extension ${ext.name} ${installed} is installed in database ${info.db} but ${ext.minVersion} or newer is required${purpose}; ` +
        (upgradable
          ? `run ALTER EXTENSION ${ext.name} UPDATE as its owner or a superuser`
          : `install a newer ${ext.name} on the server, then run ALTER EXTENSION ${ext.name} UPDATE`),
      { extension: ext.name, installed, required: ext.minVersion, available },
    );
  }
  if (defaultVersion === null || available.length === 0) {
    throw migrationError(
      'ExtensionMissing',
      `extension ${ext.name} is not available on this PostgreSQL server (no row in pg_available_extension_versions)${purpose}; ` +
        `install ${ext.name} >= ${ext.minVersion} on the server (for pgvector: the postgresql-<major>-pgvector package or an image that ships it)`,
      { extension: ext.name, required: ext.minVersion, available },
    );
  }
  if (compareVersions(defaultVersion, ext.minVersion) < 0) {
    throw migrationError(
      'ExtensionMissing',
      `extension ${ext.name} on this server is ${defaultVersion} (available: ${available.join(', ')}) but ${ext.minVersion} or newer is required${purpose}; upgrade ${ext.name} on the server`,
      { extension: ext.name, defaultVersion, required: ext.minVersion, available },
    );
  }
  check.action = 'create';
  const def = versions.find((v) => v.version === defaultVersion);
  const trusted = def?.trusted === true || def?.superuser === false;
  if (info.superuser || (trusted && info.dbcreate)) return check;
  const missing = trusted ? `CREATE on database ${info.db}` : `superuser (extension ${ext.name} is not trusted, so only a superuser can create it)`;
  throw migrationError(
    'InsufficientPrivilege',
    `role ${info.role} cannot CREATE EXTENSION ${ext.name} in database ${info.db}: it lacks ${missing}; ` +
      `have a superuser run "CREATE EXTENSION ${ext.name};" in database ${info.db} once, or run the migrations as a superuser`,
    { role: info.role, extension: ext.name, missing },
  );
}
