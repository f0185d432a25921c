// The migrate CLI's argument handling and output formatting (no database needed for these).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPlan, runMigrateCli } from '../../../src/cli/migrate.ts';
import { capturedIo } from '../../cli-io.ts';

test('usage errors exit 2', async () => {
  for (const argv of [[], ['frobnicate'], ['down'], ['status', '--to', 'x'], ['up', '--bogus'], ['up', '--lock-wait', 'soon'], ['up', 'extra']]) {
    const t = capturedIo({ env: {} });
    assert.equal(await runMigrateCli(argv, t.io), 2, argv.join(' '));
    assert.match(t.err(), /usage: lokdarpan migrate/);
  }
});

test('--help exits 0 and lists the commands', async () => {
  const t = capturedIo({ env: {} });
  assert.equal(await runMigrateCli(['--help'], t.io), 0);
  assert.match(t.out(), /status[\s\S]*plan[\s\S]*up[\s\S]*down[\s\S]*repair/);
});

test('an unreachable database is a failure (1) with the reason, also in --json', async () => {
  const t = capturedIo({ env: {} });
  const code = await runMigrateCli(['status', '--json', '--database-url', 'postgres://u:secret@127.0.0.1:1/db', '--migrations-dir', new URL('../../fixtures/migrations-basic', import.meta.url).pathname], t.io);
  assert.equal(code, 1);
  const parsed = JSON.parse(t.out()) as { error: { reason: string; message: string } };
  assert.equal(parsed.error.reason, 'DatabaseUnavailable');
  assert.doesNotMatch(t.out() + t.err(), /secret/);
});

test('plan output shows the hash and adoption', () => {
  const text = formatPlan({
    direction: 'up', from: null, target: '004_x', hash: 'h'.repeat(64),
    migrations: [{ name: '004_x', checksum: 'a'.repeat(64), transactional: false, steps: 3 }],
    adoption: { adopter: 'lokdarpan-flask', baselineThrough: '003_c', names: ['001_a', '002_b', '003_c'] },
  });
  assert.match(text, /adopt {2}001_a, 002_b, 003_c/);
  assert.match(text, /apply {2}004_x {2}sha256:aaaaaaaaaaaa {2}3 steps, not all transactional/);
  assert.match(text, /plan hash: h{64}/);
});
