// Every retention reason is explained in docs/retention.md, and the docs name no reason that does not exist.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RetentionReasons } from '../../../src/engines/retention/reasons.ts';

it('docs/retention.md explains every retention reason', () => {
  const doc = readFileSync(new URL('../../../docs/retention.md', import.meta.url), 'utf8');
  const table = doc.slice(doc.indexOf('## Reasons'));
  for (const reason of Object.values(RetentionReasons)) assert.match(table, new RegExp(`\\| \`${reason}\` \\|`), `${reason} is not in the reasons table`);
  const documented = [...table.matchAll(/^\| `(Retention[A-Za-z]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual(documented.sort(), Object.values(RetentionReasons).sort());
});
