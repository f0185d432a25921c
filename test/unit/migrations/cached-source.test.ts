import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { cachedMigrations, loadMigrations } from '../../../src/engines/migrations/index.ts';
import type { MigrationFile } from '../../../src/engines/migrations/types.ts';

const shipped = fileURLToPath(new URL('../../../migrations', import.meta.url));

test('the migrations directory is read and parsed once, however many reconciles ask at once or later', async () => {
  let loads = 0;
  const files = cachedMigrations(shipped, async (dir) => {
    loads++;
    return loadMigrations(dir);
  });
  const [a, b] = await Promise.all([files(), files()]);
  const c = await files();
  assert.equal(loads, 1);
  assert.equal(a, b);
  assert.equal(a, c);
  assert.deepEqual(
    a.map((f) => f.name),
    (await loadMigrations(shipped)).map((f) => f.name),
  );
  assert.ok(a.length > 0);
  // Shared between reconciles: nobody may change them.
  assert.throws(() => (a as MigrationFile[]).push(a[0]!), TypeError);
  assert.throws(() => {
    (a[0] as { checksum: string }).checksum = 'x';
  }, TypeError);
});

test('a failed read is not kept: the next call reads again', async () => {
  let loads = 0;
  const files = cachedMigrations('/nowhere', async () => {
    loads++;
    if (loads === 1) throw new Error('EMFILE: too many open files');
    return [];
  });
  await assert.rejects(files(), /EMFILE/);
  assert.deepEqual(await files(), []);
  assert.equal(loads, 2);
});
