// Chooses the pg_dump / pg_restore binaries for a server: from a configurable map of major version to
// bin directory, the lowest major not older than the server. A server newer than every configured
// tool is a typed, terminal error (pg_dump refuses newer servers; we never try).
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OperatorError } from '../../errors.ts';
import { PgDumpReasons } from './reasons.ts';

const run = promisify(execFile);

/** Major version -> directory holding pg_dump and pg_restore of that major. */
export type PgBinDirs = Readonly<Record<number, string>>;

/** Debian/Ubuntu layout for the majors the project supports. */
export const DEFAULT_PG_BIN_DIRS: PgBinDirs = Object.freeze({ 15: '/usr/lib/postgresql/15/bin', 18: '/usr/lib/postgresql/18/bin' });

export type PgToolName = 'pg_dump' | 'pg_restore';

export interface PgTool {
  name: PgToolName;
  path: string;
  major: number;
  /** As printed by `--version`, e.g. "15.14". */
  version: string;
}

/** "pg_dump (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)" -> { major: 15, version: "15.14" } */
export function parseToolVersion(output: string): { major: number; version: string } | undefined {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(output);
  if (m === null) return undefined;
  return { major: Number(m[1]), version: m[2] === undefined ? (m[1] as string) : `${m[1]}.${m[2]}` };
}

/** server_version_num (150014, 180003) -> major. */
export function serverMajorOf(serverVersionNum: number): number {
  return Math.floor(serverVersionNum / 10000);
}

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function probeTool(path: string, name: PgToolName): Promise<PgTool> {
  let stdout: string;
  try {
    ({ stdout } = await run(path, ['--version'], { timeout: 10_000 }));
  } catch (error) {
    throw new OperatorError(PgDumpReasons.PgToolMissing, `${path} --version failed: ${(error as Error).message.split('\n')[0]}`, { cause: error, terminal: true });
  }
  const parsed = parseToolVersion(stdout);
  if (parsed === undefined) throw new OperatorError(PgDumpReasons.PgToolMissing, `${path} --version printed no PostgreSQL version`, { terminal: true });
  return { name, path, ...parsed };
}

/**
 * The tool to use against a server of `serverMajor`: the lowest configured major >= max(serverMajor,
 * minMajor). `minMajor` lets pg_restore be at least as new as the pg_dump that wrote the archive.
 */
export async function chooseTool(dirs: PgBinDirs, name: PgToolName, serverMajor: number, minMajor = 0): Promise<PgTool> {
  const needed = Math.max(serverMajor, minMajor);
  const available: number[] = [];
  for (const [majorText, dir] of Object.entries(dirs)) {
    if (await executable(join(dir, name))) available.push(Number(majorText));
  }
  available.sort((a, b) => a - b);
  const major = available.find((m) => m >= needed);
  if (major === undefined) {
    if (available.length === 0) {
      throw new OperatorError(PgDumpReasons.PgToolMissing, `no ${name} found in the configured directories (${Object.values(dirs).join(', ')})`, { terminal: true });
    }
    throw new OperatorError(
      PgDumpReasons.PgDumpTooOld,
      `${name} ${needed} or newer is needed but the newest configured is ${available[available.length - 1]}; add PostgreSQL ${needed} client binaries`,
      { terminal: true, details: { needed, available } },
    );
  }
  const tool = await probeTool(join(dirs[major] as string, name), name);
  if (tool.major < needed) {
    throw new OperatorError(PgDumpReasons.PgDumpTooOld, `${tool.path} is version ${tool.version}, older than the needed ${needed}`, { terminal: true });
  }
  return tool;
}
