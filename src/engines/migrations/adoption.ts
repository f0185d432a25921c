// The adoption hook: a database built by another tool is recognised, checked and baselined, i.e. the
// migrations up to `baselineThrough` are recorded as kind='adopted' without running their SQL.
import { withTransaction, type Queryable } from '../../adapters/postgres/session.ts';
import { migrationError } from './errors.ts';
import { insertHistory, type HistoryTable } from './history.ts';
import type { MigrationFile } from './types.ts';

export interface Adopter {
  /** Short name, shown in plans and history (`applied_by`). */
  name: string;
  /** True when the database looks like one this adopter baselines. Read-only. */
  detect(client: Queryable): Promise<boolean>;
  /** Last migration the existing schema corresponds to: a full name, or a prefix such as "003". */
  baselineThrough: string;
  /** Problems that forbid adoption (missing tables, ...); `[]` when the baseline holds. Read-only. */
  verify(client: Queryable): Promise<string[]>;
  /** Optional SQL run in the adoption transaction to bring the old schema to exactly `baselineThrough`. */
  fixup?(client: Queryable): Promise<void>;
}

/** Resolves a `baselineThrough` full name or prefix (`003` matches `003_...`) to one file name. */
export function resolveBaseline(files: readonly MigrationFile[], through: string): string {
  if (files.some((f) => f.name === through)) return through;
  const matches = files.filter((f) => f.name.startsWith(`${through}_`));
  if (matches.length === 1) return matches[0]!.name;
  throw migrationError(
    'UnknownTarget',
    `adoption baseline "${through}" matches ${matches.length === 0 ? 'no migration' : `several migrations (${matches.map((f) => f.name).join(', ')})`}`,
    { baselineThrough: through },
  );
}

/** The first adopter that recognises the database, or undefined. Only asked when history is empty. */
export async function detectAdopter(client: Queryable, adopters: readonly Adopter[]): Promise<Adopter | undefined> {
  for (const adopter of adopters) if (await adopter.detect(client)) return adopter;
  return undefined;
}

export interface AdoptInput {
  client: Queryable;
  adopter: Adopter;
  names: readonly string[];
  files: readonly MigrationFile[];
  historyTable: HistoryTable;
  appliedBy: string;
}

/** Verifies, runs the fix-up and records the adopted rows, all in one transaction. */
export async function adopt(input: AdoptInput): Promise<void> {
  const { adopter } = input;
  await withTransaction(input.client, async (q) => {
    const problems = await adopter.verify(q);
    if (problems.length > 0) {
      throw migrationError(
        'AdoptionVerificationFailed',
        `the database looks like a ${adopter.name} database but cannot be baselined: ${problems.join('; ')}`,
        { adopter: adopter.name, problems },
      );
    }
    if (adopter.fixup) await adopter.fixup(q);
    const byName = new Map(input.files.map((f) => [f.name, f]));
    for (const name of input.names) {
      const file = byName.get(name)!;
      await insertHistory(q, input.historyTable, {
        name,
        checksum: file.checksum,
        durationMs: 0,
        appliedBy: `${input.appliedBy} (adopted: ${adopter.name})`,
        transactional: true,
        kind: 'adopted',
      });
    }
  });
}
