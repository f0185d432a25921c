import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedMutex } from '../../../src/controllers/shared/database-mutex.ts';

test('operations on one database never overlap; other databases run alongside', async () => {
  const mutex = new KeyedMutex();
  const log: string[] = [];
  const op = (key: string, name: string, ms: number) =>
    mutex.run(key, name, async () => {
      log.push(`start ${name}`);
      assert.equal(mutex.holder(key), name);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
    });
  await Promise.all([op('a', 'migrate', 30), op('a', 'backup', 5), op('b', 'refresh', 10)]);
  assert.deepEqual(log.filter((l) => l.endsWith('migrate') || l.endsWith('backup')), ['start migrate', 'end migrate', 'start backup', 'end backup']);
  assert.ok(log.indexOf('start refresh') < log.indexOf('end migrate'));
  assert.equal(mutex.holder('a'), undefined);
});

test('a failing holder releases the lock', async () => {
  const mutex = new KeyedMutex();
  await assert.rejects(mutex.run('a', 'x', async () => { throw new Error('boom'); }), /boom/);
  assert.equal(await mutex.run('a', 'y', async () => 42), 42);
});
