// The no-operator restore procedure exists once in substance: docs/operations.md's restore-step blocks
// and scripts/restore-without-operator.sh hold the same steps (the integration test
// docs-restore-procedure.test.ts executes both); the steps use only the standard tools the doc lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { OPERATIONS_DOC, RESTORE_SCRIPT, restoreProcedureSteps, scriptProcedure } from './restore-procedure.ts';

test('the script carries the doc\'s restore steps verbatim and in order', async () => {
  const steps = await restoreProcedureSteps();
  assert.equal(steps.length, 8);
  steps.forEach((s, i) => assert.match(s, new RegExp(`^# ${i + 1}\\. `), `step ${i + 1} starts with its numbered comment`));
  assert.equal(await scriptProcedure(), steps.join('\n\n'));
});

test('the steps download, check SHA-256, decrypt with age, decompress with zstd, pg_restore and compare row counts', async () => {
  const all = (await restoreProcedureSteps()).join('\n');
  for (const needle of ['--aws-sigv4', 'sha256sum', '.sha256', 'age --decrypt --identity', 'zstd --decompress', '--no-owner', '--single-transaction', '.tables[]', 'mismatches']) {
    assert.ok(all.includes(needle), needle);
  }
  // Only the tools the doc names (plus shell builtins and coreutils).
  const doc = await readFile(OPERATIONS_DOC, 'utf8');
  for (const tool of ['curl', 'jq', 'sha256sum', 'age', 'zstd', 'psql', 'pg_restore']) assert.ok(doc.includes(`\`${tool}\``), tool);
  assert.doesNotMatch(all, /\b(python3?|node|aws) /);
});

test('the script is valid bash, executable, and explains itself', async () => {
  assert.equal(spawnSync('bash', ['-n', RESTORE_SCRIPT]).status, 0);
  const help = spawnSync('bash', [RESTORE_SCRIPT, '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--manifest-key KEY/);
  assert.match(help.stdout, /AWS_ACCESS_KEY_ID/);
  const usage = spawnSync('bash', [RESTORE_SCRIPT], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });
  assert.equal(usage.status, 2);
  const bad = spawnSync('bash', [RESTORE_SCRIPT, '--nope'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown option: --nope/);
});
