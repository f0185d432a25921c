// The pure planner: drift validation, up/down plans, the plan hash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planDown, planUp, validateHistory } from '../../../src/engines/migrations/plan.ts';
import { resolveBaseline } from '../../../src/engines/migrations/adoption.ts';
import { isOperatorError } from '../../../src/errors.ts';
import type { HistoryRow, MigrationFile } from '../../../src/engines/migrations/types.ts';

const file = (name: string, checksum = name.padEnd(64, '0').replace(/[^0-9a-f]/g, 'a').slice(0, 64), nonTx = false): MigrationFile => ({
  name,
  checksum,
  upPath: `/m/${name}.up.sql`,
  downPath: `/m/${name}.down.sql`,
  up: { steps: [{ index: 0, transactional: !nonTx, sql: 'SELECT 1', line: 1 }] },
  down: { steps: [{ index: 0, transactional: true, sql: 'SELECT 1', line: 1 }] },
});
const row = (f: MigrationFile, over: Partial<HistoryRow> = {}): HistoryRow => ({
  name: f.name, checksum: f.checksum, appliedAt: new Date(0), durationMs: 1, appliedBy: 't', transactional: true, kind: 'applied', ...over,
});
const files = [file('001_a'), file('002_b'), file('003_c', undefined, true)];

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(isOperatorError(error));
    return error.reason;
  }
  return 'none';
}

test('validateHistory: clean, changed, missing, out of order', () => {
  validateHistory(files, [row(files[0]!)]);
  assert.equal(reasonOf(() => validateHistory(files, [row(files[0]!, { checksum: 'f'.repeat(64) })])), 'ChecksumMismatch');
  assert.equal(reasonOf(() => validateHistory(files, [row(file('000_gone'))])), 'MigrationMissing');
  assert.equal(reasonOf(() => validateHistory(files, [row(files[0]!), row(files[2]!)])), 'OutOfOrderMigration');
});

test('ChecksumMismatch names the file and both checksums', () => {
  try {
    validateHistory(files, [row(files[1]!, { checksum: 'e'.repeat(64) })]);
    assert.fail('expected an error');
  } catch (error) {
    assert.ok(isOperatorError(error));
    assert.match(error.message, new RegExp(`/m/002_b.up.sql.*${'e'.repeat(64)}.*${files[1]!.checksum}`));
  }
});

test('planUp: pending up to the target, transactional flags, stable hash', () => {
  const all = planUp({ files, history: [row(files[0]!)] });
  assert.deepEqual(all.migrations.map((m) => [m.name, m.transactional]), [['002_b', true], ['003_c', false]]);
  assert.equal(all.from, '001_a');
  assert.equal(all.target, '003_c');
  assert.equal(planUp({ files, history: [row(files[0]!)] }).hash, all.hash);
  const partial = planUp({ files, history: [row(files[0]!)], to: '002_b' });
  assert.deepEqual(partial.migrations.map((m) => m.name), ['002_b']);
  assert.notEqual(partial.hash, all.hash);
  const edited = planUp({ files: [files[0]!, file('002_b', 'b'.repeat(64)), files[2]!], history: [row(files[0]!)] });
  assert.notEqual(edited.hash, all.hash, 'a changed checksum changes the hash');
  const done = planUp({ files, history: files.map((f) => row(f)) });
  assert.deepEqual(done.migrations, []);
  assert.equal(done.target, '003_c');
  assert.equal(reasonOf(() => planUp({ files, history: files.map((f) => row(f)), to: '001_a' })), 'DowngradeNotAllowed');
  assert.equal(reasonOf(() => planUp({ files, history: [], to: '004_x' })), 'UnknownTarget');
});

test('planUp with adoption records the baseline and runs the rest', () => {
  const plan = planUp({ files, history: [], adoption: { adopter: 'x', baselineThrough: '002_b' } });
  assert.deepEqual(plan.adoption, { adopter: 'x', baselineThrough: '002_b', names: ['001_a', '002_b'] });
  assert.deepEqual(plan.migrations.map((m) => m.name), ['003_c']);
  assert.notEqual(plan.hash, planUp({ files, history: [] }).hash);
  assert.equal(resolveBaseline(files, '002'), '002_b');
  assert.equal(resolveBaseline(files, '003_c'), '003_c');
  assert.equal(reasonOf(() => resolveBaseline(files, '009')), 'UnknownTarget');
});

test('planDown: reverse order, needs allowDowngrade, null reverts all', () => {
  const history = files.map((f) => row(f));
  assert.equal(reasonOf(() => planDown({ files, history, to: '001_a', allowDowngrade: false })), 'DowngradeNotAllowed');
  const plan = planDown({ files, history, to: '001_a', allowDowngrade: true });
  assert.deepEqual(plan.migrations.map((m) => m.name), ['003_c', '002_b']);
  assert.equal(plan.target, '001_a');
  assert.deepEqual(planDown({ files, history, to: null, allowDowngrade: true }).migrations.map((m) => m.name), ['003_c', '002_b', '001_a']);
  // Nothing to revert is not a downgrade.
  assert.deepEqual(planDown({ files, history, to: '003_c', allowDowngrade: false }).migrations, []);
});
