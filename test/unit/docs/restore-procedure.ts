// Reads the no-operator restore procedure from where it is written: the ```bash restore-step blocks of
// docs/operations.md and the marked section of scripts/restore-without-operator.sh. Shared by the unit
// test (they are the same steps) and the integration test (which runs the doc's blocks).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const repoRoot = new URL('../../../', import.meta.url).pathname;
export const OPERATIONS_DOC = join(repoRoot, 'docs', 'operations.md');
export const RESTORE_SCRIPT = join(repoRoot, 'scripts', 'restore-without-operator.sh');

/** The doc's restore steps, in order, each a block of bash. */
export async function restoreProcedureSteps(): Promise<string[]> {
  const text = await readFile(OPERATIONS_DOC, 'utf8');
  return [...text.matchAll(/^```bash restore-step\n([\s\S]*?)^```$/gm)].map((m) => m[1]!.trimEnd());
}

/** The script's copy of the steps: the lines between its restore-procedure markers. */
export async function scriptProcedure(): Promise<string> {
  const text = await readFile(RESTORE_SCRIPT, 'utf8');
  const begin = text.indexOf('\n# >>> restore-procedure');
  const end = text.indexOf('\n# <<< restore-procedure');
  if (begin < 0 || end < begin) throw new Error('scripts/restore-without-operator.sh has no restore-procedure markers');
  return text.slice(text.indexOf('\n', begin + 1) + 1, end).trimEnd();
}
