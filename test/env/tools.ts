// Locates the command-line tools the tests drive for real: PostgreSQL binaries of each major,
// `age`/`age-keygen`, `zstd`, `kubectl` and SeaweedFS's `weed`. Each lookup honours an environment
// override (to point the tests at binaries already on the machine), then the place where
// `bash scripts/setup.sh` installs it, then PATH; a missing tool fails with an error that says so.
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { cacheDir } from './process.ts';

export type PgMajor = 15 | 18;
export const pgMajors: readonly PgMajor[] = [15, 18];

export class MissingToolError extends Error {
  override readonly name = 'MissingToolError';
  constructor(tool: string, looked: readonly string[]) {
    super(
      `${tool} not found (looked in: ${looked.join(', ') || 'nothing'}); ` +
        'run `bash scripts/setup.sh` to install the test environment, or set the override variable',
    );
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `name` on PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Resolves a tool: env override, then the given candidates, then PATH (when `onPath` is set). */
function locate(tool: string, envVar: string, candidates: readonly string[], onPath?: string): string {
  const looked: string[] = [];
  const override = process.env[envVar];
  if (override) {
    if (isExecutable(override)) return override;
    throw new MissingToolError(tool, [`${envVar}=${override}`]);
  }
  for (const candidate of candidates) {
    looked.push(candidate);
    if (isExecutable(candidate)) return candidate;
  }
  if (onPath) {
    looked.push(`PATH (${onPath})`);
    const found = findOnPath(onPath);
    if (found) return found;
  }
  throw new MissingToolError(tool, [`$${envVar}`, ...looked]);
}

/**
 * The bin directory of PostgreSQL `major` (postgres, initdb, pg_ctl, psql, pg_dump, pg_restore).
 * Overrides: LOKDARPAN_PG15_BIN / LOKDARPAN_PG18_BIN.
 */
export function pgBinDir(major: PgMajor): string {
  const envVar = `LOKDARPAN_PG${major}_BIN`;
  const defaults: Record<PgMajor, string> = {
    15: '/usr/lib/postgresql/15/bin',
    18: join(cacheDir, 'pg18', 'pgserver', 'pginstall', 'bin'),
  };
  const override = process.env[envVar];
  const dir = override || defaults[major];
  if (!isExecutable(join(dir, 'postgres')) || !isExecutable(join(dir, 'initdb'))) {
    throw new MissingToolError(`PostgreSQL ${major}`, [override ? `${envVar}=${dir}` : dir]);
  }
  return dir;
}

/** The path of a PostgreSQL client program (pg_dump, pg_restore, psql, ...) of that major. */
export function pgTool(major: PgMajor, name: string): string {
  const path = join(pgBinDir(major), name);
  if (!isExecutable(path)) throw new MissingToolError(`${name} (PostgreSQL ${major})`, [path]);
  return path;
}

/** PostgreSQL's share and package-library directories for a bin directory (where extensions live). */
export function pgInstallDirs(binDir: string): { shareDir: string; pkglibDir: string } {
  const debian = /^\/usr\/lib\/postgresql\/(\d+)\/bin\/?$/.exec(binDir);
  if (debian) {
    return { shareDir: `/usr/share/postgresql/${debian[1]}`, pkglibDir: `/usr/lib/postgresql/${debian[1]}/lib` };
  }
  const prefix = join(binDir, '..');
  const shareDir = existsSync(join(prefix, 'share', 'postgresql', 'extension'))
    ? join(prefix, 'share', 'postgresql')
    : join(prefix, 'share');
  const pkglibDir = existsSync(join(prefix, 'lib', 'postgresql', 'plpgsql.so'))
    ? join(prefix, 'lib', 'postgresql')
    : join(prefix, 'lib');
  return { shareDir, pkglibDir };
}

/** The age CLI (override: LOKDARPAN_AGE). */
export function ageBinary(): string {
  return locate('age', 'LOKDARPAN_AGE', ['/usr/bin/age'], 'age');
}

/** age-keygen (override: LOKDARPAN_AGE_KEYGEN). */
export function ageKeygenBinary(): string {
  return locate('age-keygen', 'LOKDARPAN_AGE_KEYGEN', ['/usr/bin/age-keygen'], 'age-keygen');
}

/** The zstd CLI (override: LOKDARPAN_ZSTD). */
export function zstdBinary(): string {
  return locate('zstd', 'LOKDARPAN_ZSTD', ['/usr/bin/zstd'], 'zstd');
}

/**
 * kubectl: LOKDARPAN_KUBECTL, else envtest's TEST_ASSET_KUBECTL / KUBEBUILDER_ASSETS (as test/env/kube.ts),
 * else the control plane's build in the cache, else PATH.
 */
export function kubectl(): string {
  const candidates = [
    process.env['TEST_ASSET_KUBECTL'],
    process.env['KUBEBUILDER_ASSETS'] ? join(process.env['KUBEBUILDER_ASSETS'], 'kubectl') : undefined,
    join(cacheDir, 'bin', 'k8s-v1.37.2', 'kubectl'), // where scripts/setup/control-plane.sh builds it (KUBE_VERSION in kube.ts)
    join(cacheDir, 'bin', 'kubectl'),
  ].filter((c): c is string => Boolean(c));
  return locate('kubectl', 'LOKDARPAN_KUBECTL', candidates, 'kubectl');
}

/** SeaweedFS's weed, from the venv scripts/setup/seaweedfs.sh makes (override: LOKDARPAN_WEED). */
export function weedBinary(): string {
  return locate('weed (SeaweedFS)', 'LOKDARPAN_WEED', [join(cacheDir, 'venv-s3', 'bin', 'weed')], 'weed');
}
