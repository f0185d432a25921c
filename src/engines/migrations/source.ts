// Loads the migrations directory: pairs `NAME.up.sql` / `NAME.down.sql`, checksums and parses them.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { migrationError } from './errors.ts';
import { parseMigrationFile, type ParsedMigrationFile } from './format.ts';
import type { MigrationFile } from './types.ts';

const FILE = /^([0-9][A-Za-z0-9_-]*)\.(up|down)\.sql$/;

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function loadMigrations(dir: string): Promise<MigrationFile[]> {
  let entries: string[];
  try {
    entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  } catch (cause) {
    throw migrationError('InvalidMigrationFile', `cannot read the migrations directory ${dir}: ${(cause as Error).message}`, { dir }, cause);
  }
  const pairs = new Map<string, { up?: string; down?: string }>();
  for (const file of entries) {
    if (!file.endsWith('.sql')) continue;
    const match = FILE.exec(file);
    if (!match) {
      throw migrationError('InvalidMigrationFile', `${file}: a migration file is named NAME.up.sql or NAME.down.sql, NAME starting with a digit`, { file });
    }
    const pair = pairs.get(match[1]!) ?? {};
    pair[match[2] as 'up' | 'down'] = file;
    pairs.set(match[1]!, pair);
  }
  const names = [...pairs.keys()].sort(compareNames);
  const result: MigrationFile[] = [];
  for (const name of names) {
    const pair = pairs.get(name)!;
    if (!pair.up || !pair.down) {
      const missing = pair.up ? `${name}.down.sql` : `${name}.up.sql`;
      throw migrationError('InvalidMigrationFile', `${missing} is missing: every migration has an up and a down file`, { name, missing });
    }
    const upPath = join(dir, pair.up);
    const downPath = join(dir, pair.down);
    const upBytes = await readFile(upPath);
    const downText = await readFile(downPath, 'utf8');
    result.push({
      name,
      checksum: sha256Hex(upBytes),
      upPath,
      downPath,
      up: parseOrThrow(pair.up, upBytes.toString('utf8')),
      down: parseOrThrow(pair.down, downText),
    });
  }
  return result;
}

/**
 * The directory read and parsed once, on first use, then shared: migrations ship with the operator's
 * image and do not change while it runs. A failed read is not kept, so the next call tries again.
 */
export function cachedMigrations(dir: string, load: (dir: string) => Promise<MigrationFile[]> = loadMigrations): () => Promise<readonly MigrationFile[]> {
  let files: Promise<readonly MigrationFile[]> | undefined;
  return () => {
    files ??= load(dir).then(
      (loaded) => Object.freeze(loaded.map((file) => Object.freeze(file))),
      (error: unknown) => {
        files = undefined;
        throw error;
      },
    );
    return files;
  };
}

/** Byte order of the names (not locale order), so `001_a` < `001a` < `002` everywhere. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function parseOrThrow(file: string, text: string): ParsedMigrationFile {
  try {
    return parseMigrationFile(text);
  } catch (cause) {
    throw migrationError('InvalidMigrationFile', `${file}: ${(cause as Error).message}`, { file }, cause);
  }
}
