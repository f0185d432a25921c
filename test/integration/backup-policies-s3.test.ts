// Backups belong to their policy: two BackupPolicies (and the same policy name in two clusters) on one
// bucket and prefix each prune only their own backups, against real S3 (SeaweedFS) and the real GFS
// planner. The reproduction of the bug this guards against: `keepLast: 24` of one policy deleted 29 of
// the other's 30 backups. Backups written before owners existed stay listable and are touched only
// by an explicit adoption or by the owner-less (CLI) prune.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startS3, type S3Server } from '../env/s3.ts';
import type { S3ObjectStore } from '../../src/adapters/s3/index.ts';
import {
  backupKeys, findOverlappingDestinations, listBackups, MANIFEST_FORMAT, pruneBackups, serializeManifest, type BackupManifest, type BackupOwner,
} from '../../src/engines/backup/index.ts';
import { ManualClock } from '../../src/clock.ts';
import { keysIn, storeOn } from './backup-fixture.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const HOUR = 3600_000;

function manifest(id: string, startedAt: string, data: Buffer, owner: BackupOwner | undefined): BackupManifest {
  const m: BackupManifest = {
    format: MANIFEST_FORMAT, id, database: 'lokdarpan', startedAt, finishedAt: startedAt, durationMs: 0,
    server: { version: '15.14', versionNum: 150014, major: 15 }, pgDump: { version: '15.14', major: 15 },
    plainBytes: data.length, encryptedBytes: data.length, sha256: sha(data), compression: { algorithm: 'zstd', level: 1 },
    encryption: { format: 'age-v1', recipients: [] }, tables: [], destinations: [],
  };
  if (owner !== undefined) m.owner = owner;
  return m;
}

describe('backups belong to their policy (real S3)', () => {
  let s3: S3Server | undefined;
  let store: S3ObjectStore;
  const nightly: BackupOwner = { cluster: 'prod-mumbai', namespace: 'lokdarpan', name: 'nightly', uid: 'uid-1' };
  const hourly: BackupOwner = { cluster: 'prod-mumbai', namespace: 'lokdarpan', name: 'hourly', uid: 'uid-2' };
  const nightlyElsewhere: BackupOwner = { cluster: 'staging-pune', namespace: 'lokdarpan', name: 'nightly', uid: 'uid-3' };
  const clock = new ManualClock('2026-03-31T12:00:00Z');

  /** `count` hourly backups of `owner` ending at `end`. */
  async function write(owner: BackupOwner | undefined, count: number, end: string, tag: string): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const at = new Date(new Date(end).getTime() - i * HOUR);
      const id = `${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${tag}`;
      const keys = backupKeys('lokdarpan', id, owner);
      const data = randomBytes(64);
      await store.put(store.key(keys.data), data);
      await store.put(store.key(keys.manifest), serializeManifest(manifest(id, at.toISOString(), data, owner)));
      ids.push(id);
    }
    return ids;
  }

  const idsOf = async (owner: BackupOwner | undefined): Promise<string[]> =>
    (await listBackups(store, 'lokdarpan', owner === undefined ? {} : { owner })).backups.map((b) => b.id).sort();

  before(async () => {
    s3 = await startS3({ name: 'policies' });
    await s3.createBucket('shared');
    store = storeOn(s3, 'shared', 'shared', 'lokdarpan/');
  });

  after(async () => {
    store?.destroy();
    await s3?.stop();
  });

  it('two policies and two clusters on one bucket and prefix each prune only their own', async () => {
    const nightlyIds = await write(nightly, 30, '2026-03-31T10:00:00Z', 'n');
    const hourlyIds = await write(hourly, 30, '2026-03-31T10:30:00Z', 'h');
    const elsewhereIds = await write(nightlyElsewhere, 3, '2026-03-31T11:00:00Z', 'x');
    const legacyIds = await write(undefined, 5, '2026-03-01T02:00:00Z', 'legacy');
    assert.deepEqual(await idsOf(nightly), [...nightlyIds].sort());
    assert.deepEqual((await listBackups(store, 'lokdarpan', { owner: nightly })).unowned.map((b) => b.id).sort(), [...legacyIds].sort(), 'backups without an owner stay listable');
    assert.equal((await listBackups(store, 'lokdarpan', { allOwners: true })).backups.length, 68);

    const pruned = await pruneBackups({ store, database: 'lokdarpan', owner: nightly, rules: { keepLast: 24 }, clock });
    assert.equal(pruned.deleted.length, 6);
    assert.ok(pruned.deleted.every((id) => id.endsWith('-n')), 'only its own backups were deleted');
    assert.deepEqual(await idsOf(nightly), [...nightlyIds].sort().slice(6));
    assert.deepEqual(await idsOf(hourly), [...hourlyIds].sort(), 'the other policy keeps all 30');
    assert.deepEqual(await idsOf(nightlyElsewhere), [...elsewhereIds].sort(), 'the same policy name in another cluster keeps its own');
    assert.deepEqual(await idsOf(undefined), [...legacyIds].sort(), 'backups without an owner are not deleted by a policy');

    await pruneBackups({ store, database: 'lokdarpan', owner: hourly, rules: { keepLast: 24 }, clock });
    assert.equal((await idsOf(hourly)).length, 24);
    assert.equal((await idsOf(nightly)).length, 24);
    assert.equal((await idsOf(nightlyElsewhere)).length, 3);

    // The owner-less prune (CLI) only touches owner-less backups.
    await pruneBackups({ store, database: 'lokdarpan', rules: { keepLast: 2 }, clock });
    assert.equal((await idsOf(undefined)).length, 2);
    assert.equal((await idsOf(hourly)).length + (await idsOf(nightly)).length + (await idsOf(nightlyElsewhere)).length, 51);

    // Adoption: the policy takes the owner-less backups as its own; they are older than its 24, so go.
    await pruneBackups({ store, database: 'lokdarpan', owner: nightly, adoptUnowned: true, rules: { keepLast: 24 }, clock });
    assert.deepEqual(await idsOf(undefined), []);
    assert.equal((await idsOf(nightly)).length, 24);
    assert.equal((await idsOf(hourly)).length, 24);
  });

  it('orphans and misplaced manifests of another policy are left alone', async () => {
    const later = new ManualClock(new Date(Date.now() + 25 * HOUR));
    const theirOrphan = store.key(backupKeys('lokdarpan', '20260331T230000Z-orphan', hourly).data);
    const ourOrphan = store.key(backupKeys('lokdarpan', '20260331T230000Z-orphan', nightly).data);
    await store.put(theirOrphan, randomBytes(10));
    await store.put(ourOrphan, randomBytes(10));
    // A manifest in our folder that names another owner (copied by hand, or a bug): reported, untouched.
    const misplaced = store.key(backupKeys('lokdarpan', '20260101T000000Z-misplaced', nightly).manifest);
    await store.put(misplaced, serializeManifest(manifest('20260101T000000Z-misplaced', '2026-01-01T00:00:00Z', randomBytes(8), hourly)));
    const result = await pruneBackups({ store, database: 'lokdarpan', owner: nightly, rules: { keepLast: 24 }, clock: later });
    assert.deepEqual(result.orphansDeleted, [ourOrphan]);
    assert.ok((await keysIn(store)).includes(theirOrphan), "the other policy's incomplete run is not ours to delete");
    assert.ok((await keysIn(store)).includes(misplaced));
    const listed = await listBackups(store, 'lokdarpan', { owner: nightly });
    assert.deepEqual(listed.invalid.map((i) => i.key), [misplaced]);
  });

  it('overlapping destinations are detected for the status', () => {
    const overlaps = findOverlappingDestinations([
      { id: 'lokdarpan/nightly', endpoint: 'http://S3.local/', bucket: 'shared', prefix: 'lokdarpan', database: 'lokdarpan' },
      { id: 'lokdarpan/hourly', endpoint: 'http://s3.local', bucket: 'shared', prefix: 'lokdarpan/', database: 'lokdarpan' },
      { id: 'other/weekly', endpoint: 'http://s3.local', bucket: 'shared', prefix: 'elsewhere/', database: 'lokdarpan' },
      { id: 'other/aws', bucket: 'shared', prefix: 'lokdarpan/', database: 'lokdarpan' },
    ]);
    assert.deepEqual(overlaps, [{ location: 'http://s3.local s3://shared/lokdarpan/lokdarpan/', ids: ['lokdarpan/hourly', 'lokdarpan/nightly'] }]);
  });
});
