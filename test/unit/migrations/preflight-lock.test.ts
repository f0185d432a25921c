// Preflight decisions and the lock's polling loop, over a scripted fake session (the seam is Queryable).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { QueryResult, QueryResultRow } from 'pg';
import { ManualClock } from '../../../src/clock.ts';
import { isOperatorError } from '../../../src/errors.ts';
import { compareVersions, runPreflight, LOKDARPAN_REQUIREMENTS } from '../../../src/engines/migrations/preflight.ts';
import { acquireMigrationLock, migrationLockKey } from '../../../src/engines/migrations/lock.ts';
import { MigrationReasons, TERMINAL_MIGRATION_REASONS } from '../../../src/engines/migrations/reasons.ts';
import type { Queryable } from '../../../src/adapters/postgres/session.ts';

/** Answers each query with the rows of the first rule whose pattern matches its text. */
function fakeSession(rules: Array<[RegExp, (values: unknown[]) => QueryResultRow[]]>): Queryable & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    async query<R extends QueryResultRow>(text: string, values: unknown[] = []): Promise<QueryResult<R>> {
      log.push(text);
      const rule = rules.find(([re]) => re.test(text));
      if (!rule) throw new Error(`unexpected query: ${text}`);
      const rows = rule[1](values) as R[];
      return { rows, rowCount: rows.length, command: 'SELECT', oid: 0, fields: [] };
    },
  };
}

const server = (num: number, superuser: boolean, ext: { installed?: string; versions?: Array<{ version: string; trusted: boolean }>; def?: string }) =>
  fakeSession([
    [/server_version_num/, () => [{ num, version: `${Math.floor(num / 10000)}.1`, role: 'app', superuser, db: 'd', dbcreate: true }]],
    [/pg_available_extension_versions/, () => (ext.versions ?? []).map((v) => ({ ...v, superuser: !v.trusted }))],
    [/FROM pg_extension/, () => (ext.installed ? [{ extversion: ext.installed }] : [])],
    [/FROM pg_available_extensions/, () => (ext.def ? [{ default_version: ext.def }] : [])],
    [/pg_namespace/, () => [{ exists: true, can: true }]],
  ]);

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'none';
  } catch (error) {
    assert.ok(isOperatorError(error), String(error));
    return error.reason;
  }
}

test('compareVersions orders numerically', () => {
  assert.equal(compareVersions('0.10.0', '0.7.0'), 1);
  assert.equal(compareVersions('0.7', '0.7.0'), 0);
  assert.equal(compareVersions('0.6.2', '0.7.0'), -1);
});

test('preflight: version, extension availability and privilege decisions', async () => {
  const v080 = [{ version: '0.8.0', trusted: false }];
  assert.equal(await reason(runPreflight(server(140011, true, { versions: v080, def: '0.8.0' }), LOKDARPAN_REQUIREMENTS)), 'UnsupportedServerVersion');
  assert.equal(await reason(runPreflight(server(150018, true, {}), LOKDARPAN_REQUIREMENTS)), 'ExtensionMissing');
  assert.equal(await reason(runPreflight(server(150018, true, { versions: [{ version: '0.6.0', trusted: false }], def: '0.6.0' }), LOKDARPAN_REQUIREMENTS)), 'ExtensionMissing');
  assert.equal(await reason(runPreflight(server(150018, false, { versions: v080, def: '0.8.0', installed: '0.5.1' }), LOKDARPAN_REQUIREMENTS)), 'ExtensionMissing');
  assert.equal(await reason(runPreflight(server(150018, false, { versions: v080, def: '0.8.0' }), LOKDARPAN_REQUIREMENTS)), 'InsufficientPrivilege');
  // Trusted (a packager may mark it so) + CREATE on the database is enough.
  assert.equal(await reason(runPreflight(server(150018, false, { versions: [{ version: '0.8.0', trusted: true }], def: '0.8.0' }), LOKDARPAN_REQUIREMENTS)), 'none');
  const ok = await runPreflight(server(180003, false, { versions: v080, def: '0.8.0', installed: '0.8.0' }), LOKDARPAN_REQUIREMENTS);
  assert.equal(ok.serverMajor, 18);
  assert.deepEqual(ok.extensions.map((e) => e.action), ['none']);
  const create = await runPreflight(server(150018, true, { versions: v080, def: '0.8.0' }), LOKDARPAN_REQUIREMENTS);
  assert.deepEqual(create.extensions.map((e) => e.action), ['create']);
});

test('the lock polls pg_try_advisory_lock until the deadline, never pg_advisory_lock, and names the holder', async () => {
  const clock = new ManualClock();
  let attempts = 0;
  const session = fakeSession([
    [/pg_try_advisory_lock/, () => [{ locked: ++attempts >= 4 }]],
    [/pg_locks/, () => [{ pid: 42, application_name: 'lokdarpan-migrate/other', usename: 'app', client_addr: '10.0.0.7', backend_start: new Date('2026-01-01T00:00:00Z'), state: 'idle' }]],
  ]);
  const sleeps: number[] = [];
  const sleep = async (ms: number) => {
    sleeps.push(ms);
    clock.advance(ms);
  };
  await acquireMigrationLock(session, { key: migrationLockKey('public.h'), timeoutMs: 10_000, pollMs: 100, clock, sleep });
  assert.equal(attempts, 4);
  assert.deepEqual(sleeps, [100, 100, 100]);
  assert.ok(session.log.every((q) => !/pg_advisory_lock\(/.test(q)));

  attempts = -1000;
  sleeps.length = 0;
  try {
    await acquireMigrationLock(session, { key: migrationLockKey('public.h'), timeoutMs: 250, pollMs: 100, clock, sleep });
    assert.fail('expected MigrationLockBusy');
  } catch (error) {
    assert.ok(isOperatorError(error));
    assert.equal(error.reason, 'MigrationLockBusy');
    assert.match(error.message, /pid 42, application_name "lokdarpan-migrate\/other", user app, client 10\.0\.0\.7, connected since 2026-01-01T00:00:00\.000Z/);
    assert.deepEqual(sleeps, [100, 100, 50]);
  }
});

test('lock keys differ per history table and fit int4', () => {
  const [a1, a2] = migrationLockKey('public.a');
  const [, b2] = migrationLockKey('public.b');
  assert.equal(a1, 0x4c4b4450);
  assert.notEqual(a2, b2);
  assert.ok(a2 >= -(2 ** 31) && a2 < 2 ** 31);
});

test('every terminal reason is in the catalog', () => {
  for (const r of TERMINAL_MIGRATION_REASONS) assert.ok(Object.values(MigrationReasons).includes(r));
  assert.ok(!TERMINAL_MIGRATION_REASONS.has('MigrationLockBusy'));
});
