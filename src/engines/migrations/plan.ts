// The pure planner: checks recorded history against the files (drift), then lists what up/down would run
// and hashes it for an approval gate. No I/O.
import { migrationError } from './errors.ts';
import { compareNames, sha256Hex } from './source.ts';
import type { Direction, HistoryRow, MigrationFile, MigrationPlan, PlannedMigration } from './types.ts';

/** Refuses edited, vanished or out-of-order migrations (Flyway's `validate`). */
export function validateHistory(files: readonly MigrationFile[], history: readonly HistoryRow[]): void {
  const byName = new Map(files.map((f) => [f.name, f]));
  for (const row of history) {
    const file = byName.get(row.name);
    if (!file) {
      throw migrationError(
        'MigrationMissing',
        `migration ${row.name} is recorded as ${row.kind} (checksum ${row.checksum}) but ${row.name}.up.sql is not in the migrations directory; restore the file or run "migrate repair --remove-missing"`,
        { name: row.name, recorded: row.checksum },
      );
    }
    if (file.checksum !== row.checksum) {
      throw migrationError(
        'ChecksumMismatch',
        `${file.upPath} changed after it was applied: recorded sha256 ${row.checksum}, file sha256 ${file.checksum}; restore the file, or run "migrate repair" if the change is intended`,
        { name: row.name, file: file.upPath, recorded: row.checksum, actual: file.checksum },
      );
    }
  }
  const last = currentVersion(history);
  if (last === null) return;
  const recorded = new Set(history.map((r) => r.name));
  const skipped = files.filter((f) => !recorded.has(f.name) && compareNames(f.name, last) < 0);
  if (skipped.length > 0) {
    throw migrationError(
      'OutOfOrderMigration',
      `migration ${skipped.map((f) => f.name).join(', ')} sorts before the applied ${last} but was never applied; rename it to sort after ${last}`,
      { names: skipped.map((f) => f.name), current: last },
    );
  }
}

export function currentVersion(history: readonly HistoryRow[]): string | null {
  let last: string | null = null;
  for (const row of history) if (last === null || compareNames(row.name, last) > 0) last = row.name;
  return last;
}

export function pendingMigrations(files: readonly MigrationFile[], history: readonly HistoryRow[]): MigrationFile[] {
  const recorded = new Set(history.map((r) => r.name));
  return files.filter((f) => !recorded.has(f.name));
}

export function describeForPlan(file: MigrationFile, direction: Direction): PlannedMigration {
  const parsed = direction === 'up' ? file.up : file.down;
  return { name: file.name, checksum: file.checksum, transactional: parsed.steps.every((s) => s.transactional), steps: parsed.steps.length };
}

export interface UpPlanInput {
  files: readonly MigrationFile[];
  history: readonly HistoryRow[];
  to?: string;
  /** Names an adopter will record as adopted (no SQL run) before the rest applies. */
  adoption?: { adopter: string; baselineThrough: string };
}

export function planUp(input: UpPlanInput): MigrationPlan {
  const { files, history } = input;
  const from = currentVersion(history);
  const latest = files.at(-1)?.name ?? null;
  const target = input.to ?? latest;
  if (input.to !== undefined) requireKnown(files, input.to);
  if (target !== null && from !== null && compareNames(target, from) < 0) {
    throw migrationError(
      'DowngradeNotAllowed',
      `target ${target} is below the current version ${from}; "up" never reverts, use "down --to ${target} --allow-downgrade"`,
      { target, current: from },
    );
  }
  let adopted: MigrationFile[] = [];
  let pending = pendingMigrations(files, history);
  if (input.adoption) {
    requireKnown(files, input.adoption.baselineThrough);
    const through = input.adoption.baselineThrough;
    adopted = pending.filter((f) => compareNames(f.name, through) <= 0);
    pending = pending.filter((f) => compareNames(f.name, through) > 0);
  }
  const toRun = target === null ? [] : pending.filter((f) => compareNames(f.name, target) <= 0);
  const migrations = toRun.map((f) => describeForPlan(f, 'up'));
  const plan: MigrationPlan = {
    direction: 'up',
    target: [from, ...adopted.map((f) => f.name), ...toRun.map((f) => f.name)].reduce<string | null>(
      (max, name) => (name !== null && (max === null || compareNames(name, max) > 0) ? name : max),
      null,
    ),
    from,
    migrations,
    hash: planHash('up', migrations, adopted),
  };
  if (input.adoption) plan.adoption = { ...input.adoption, names: adopted.map((f) => f.name) };
  return plan;
}

export interface DownPlanInput {
  files: readonly MigrationFile[];
  history: readonly HistoryRow[];
  /** The version to end at; `null` reverts everything. */
  to: string | null;
  allowDowngrade: boolean;
}

export function planDown(input: DownPlanInput): MigrationPlan {
  const { files, history, to } = input;
  const from = currentVersion(history);
  if (to !== null) requireKnown(files, to);
  const byName = new Map(files.map((f) => [f.name, f]));
  const toRevert = history
    .filter((r) => to === null || compareNames(r.name, to) > 0)
    .sort((a, b) => compareNames(b.name, a.name))
    .map((r) => byName.get(r.name)!);
  if (toRevert.length > 0 && !input.allowDowngrade) {
    throw migrationError(
      'DowngradeNotAllowed',
      `going from ${from} down to ${to ?? 'nothing'} reverts ${toRevert.length} migration(s) (${toRevert.map((f) => f.name).join(', ')}); pass allowDowngrade (--allow-downgrade) to do it`,
      { target: to, current: from, names: toRevert.map((f) => f.name) },
    );
  }
  const migrations = toRevert.map((f) => describeForPlan(f, 'down'));
  return { direction: 'down', target: toRevert.length > 0 ? to : from, from, migrations, hash: planHash('down', migrations, []) };
}

/** sha256 over the direction, the adopted names and each migration's name and checksum, in order. */
export function planHash(direction: Direction, migrations: readonly PlannedMigration[], adopted: readonly MigrationFile[]): string {
  const lines = [`direction ${direction}`];
  for (const f of adopted) lines.push(`adopt ${f.name} ${f.checksum}`);
  for (const m of migrations) lines.push(`${direction} ${m.name} ${m.checksum}`);
  return sha256Hex(lines.join('\n'));
}

function requireKnown(files: readonly MigrationFile[], name: string): void {
  if (!files.some((f) => f.name === name)) {
    const known = files.map((f) => f.name);
    throw migrationError('UnknownTarget', `no migration is named ${name}; known: ${known.join(', ') || '(none)'}`, { target: name, known });
  }
}
