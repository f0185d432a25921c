// Backups and restores under injected S3 faults (test/env/s3-faults.ts in front of SeaweedFS): a part
// upload, CompleteMultipartUpload, the manifest PUT, a replica copy or a restore's GET that fails,
// stalls or is cut. Whatever happens, a backup either completes with a manifest whose objects exist,
// or leaves neither a manifest nor a data object nor an open multipart upload; a restore that loses its
// download says so and leaves no database behind. Also: parts grow when the part budget is too small.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { startPostgres, type PostgresServer, type TestDatabase } from '../env/postgres.ts';
import { startTwoRegions, type S3Server } from '../env/s3.ts';
import { startS3Faults, type FaultyS3 } from '../env/s3-faults.ts';
import { generateIdentity } from '../../src/adapters/age/index.ts';
import type { PgTarget } from '../../src/adapters/pgdump/index.ts';
import type { S3ObjectStore } from '../../src/adapters/s3/index.ts';
import { parseManifest, type BackupOptions, type BackupResult } from '../../src/engines/backup/index.ts';
import { writeManifest } from '../../src/engines/backup/manifest-write.ts';
import { runRestore } from '../../src/engines/restore/index.ts';
import { ManualClock } from '../../src/clock.ts';
import { isOperatorError } from '../../src/errors.ts';
import { eventually, GENEROUS_WAIT_MS } from '../wait.ts';
import { adminTarget, backupTo, keysIn, noisyDatabase, openMultipartUploads, operatorErrorWith, startServers, storeOn } from './backup-fixture.ts';

const MiB = 1024 * 1024;
const isData = (key: string): boolean => key.endsWith('.dump.zst.age');
const isManifest = (key: string): boolean => key.endsWith('.manifest.json');

const reason = operatorErrorWith;

describe('backup and restore under S3 faults', () => {
  const started: Parameters<typeof startServers>[0] = {};
  let pg: PostgresServer;
  let s3: { primary: S3Server; secondary: S3Server };
  let faults: FaultyS3;
  let drFaults: FaultyS3;
  let db: TestDatabase;
  let target: PgTarget;
  let primary: S3ObjectStore;
  let replica: S3ObjectStore;
  let direct: S3ObjectStore;
  const key = generateIdentity();
  const clock = new ManualClock('2026-03-02T02:00:00Z');

  const backup = (overrides: Partial<BackupOptions> = {}): Promise<BackupResult> => backupTo({ pg, target, primary, recipient: key.recipient, clock }, overrides);

  /** Nothing of backup `id` on the store (no manifest, no data) and no open multipart upload. */
  async function assertNothingOf(store: S3ObjectStore, id: string): Promise<void> {
    const left = (await keysIn(store)).filter((k) => k.includes(`/${id}.`));
    assert.deepEqual(left, [], `no object of the failed backup ${id} remains in ${store.name}`);
    assert.equal(await openMultipartUploads(store), 0, `no multipart upload left open in ${store.name}`);
  }

  before(async () => {
    ({ pg, s3 } = await startServers(started, () => startPostgres(), () => startTwoRegions()));
    await Promise.all([s3.primary.createBucket('backups'), s3.secondary.createBucket('dr-backups')]);
    [faults, drFaults] = await Promise.all([startS3Faults(s3.primary), startS3Faults(s3.secondary)]);
    primary = storeOn(faults.server, 'primary', 'backups');
    replica = storeOn(drFaults.server, 'dr', 'dr-backups');
    direct = storeOn(s3.primary, 'primary-direct', 'backups');
    // ~12 MB of incompressible data: three 5 MiB parts.
    db = await noisyDatabase(pg, { rows: 500, noiseRows: 190000 });
    target = adminTarget(pg, db.name);
  });

  after(async () => {
    primary?.destroy();
    replica?.destroy();
    direct?.destroy();
    await Promise.allSettled([faults?.stop(), drFaults?.stop()]);
    await Promise.allSettled([started.pg?.stop(), started.s3?.primary.stop(), started.s3?.secondary.stop()]);
  });

  it('parts grow when the part budget is too small for the object: never "Exceeded parts"', async () => {
    // 12 MB in 5 MiB parts would need 3 parts; a budget of 2 and a far too small estimate force growth.
    const r = await backup({ backupId: 'tiny-budget', maxParts: 2, expectedBytes: 1 });
    assert.ok(r.manifest.encryptedBytes > 10 * MiB, `the fixture is ${r.manifest.encryptedBytes} bytes`);
    assert.ok(r.manifest.encryptedBytes > 2 * 5 * MiB, 'fixed 5 MiB parts would have exceeded the budget');
    assert.equal(r.destinations[0]?.parts, 2);
    assert.equal(faults.count('UploadPart', r.destinations[0]?.key), 2, 'two UploadPart requests reached the store');
    assert.equal(r.destinations[0]?.verified, true, 'the grown object was read back and its SHA-256 matched');
    // The same through the store directly, with a replica copy under the same tiny budget.
    const body = randomBytes(13 * MiB);
    const stored = await primary.upload(primary.key('raw/grow.bin'), Readable.from([body.subarray(0, 4 * MiB), body.subarray(4 * MiB)]), { partSize: 5 * MiB, maxParts: 2 });
    assert.equal(stored.parts, 2);
    assert.ok((await direct.getBuffer(direct.key('raw/grow.bin'))).equals(body));
    await direct.delete(direct.key('raw/grow.bin'), clock.now());
  });

  it('a failing UploadPart fails the backup and leaves nothing', async () => {
    const rule = faults.inject({ operation: 'UploadPart', action: { kind: 'fail' } });
    try {
      await assert.rejects(backup({ backupId: 'part-fails', replicas: [replica] }), reason('UploadFailed'));
    } finally {
      rule.remove();
    }
    assert.ok(rule.hits >= 1);
    await assertNothingOf(direct, 'part-fails');
    await assertNothingOf(replica, 'part-fails');
  });

  it('a CompleteMultipartUpload whose answer is lost (the store completed it) leaves no data object', async () => {
    const rule = faults.inject({ operation: 'CompleteMultipartUpload', key: isData, action: { kind: 'cut' } });
    try {
      await assert.rejects(backup({ backupId: 'complete-cut' }), (e: unknown) => isOperatorError(e));
    } finally {
      rule.remove();
    }
    assert.ok(rule.hits >= 1, 'the completion was cut');
    await assertNothingOf(direct, 'complete-cut');
  });

  it('a manifest PUT whose answer is lost is confirmed by reading it back: the backup completes', async () => {
    const rule = faults.inject({ operation: 'PutObject', key: isManifest, action: { kind: 'cut' }, times: 1 });
    const r = await backup({ backupId: 'manifest-cut' });
    rule.remove();
    assert.equal(rule.hits, 1, 'the first manifest PUT was cut after the store wrote it');
    const stored = parseManifest(await direct.getBuffer(r.manifestKey), r.manifestKey);
    assert.equal(stored.sha256, r.manifest.sha256);
    assert.ok((await direct.head(r.destinations[0]!.key)) !== undefined, 'the manifest points at an existing object');
  });

  it('a manifest PUT that keeps failing fails the backup: no manifest, no data object', async () => {
    const rule = faults.inject({ operation: 'PutObject', key: isManifest, action: { kind: 'fail', status: 500 } });
    try {
      await assert.rejects(backup({ backupId: 'manifest-fails', replicas: [replica] }), reason('UploadFailed'));
    } finally {
      rule.remove();
    }
    await assertNothingOf(direct, 'manifest-fails');
    await assertNothingOf(replica, 'manifest-fails');
  });

  it('a manifest key already taken is never replaced: the conditional PUT refuses, reading back tells ours from theirs', async () => {
    const manifestKey = primary.key('lokdarpan/taken.manifest.json');
    const theirs = Buffer.from('{"theirs":true}\n');
    const ours = Buffer.from('{"ours":true}\n');
    assert.deepEqual(await writeManifest(primary, manifestKey, theirs), { status: 'written' });
    await assert.rejects(primary.put(manifestKey, ours, { ifNoneMatch: true }), reason('AlreadyExists'));
    await assert.rejects(writeManifest(primary, manifestKey, ours), reason('AlreadyExists'));
    assert.ok((await direct.getBuffer(manifestKey)).equals(theirs), 'the other manifest is untouched');
    // Our own earlier attempt that landed (a retry answered 412) is recognised as ours.
    assert.deepEqual(await writeManifest(primary, manifestKey, theirs), { status: 'confirmed-by-read-back' });
    await direct.delete(manifestKey, clock.now());
  });

  it('a replica whose copy fails is reported with its error; the backup completes without it', async () => {
    const rule = drFaults.inject({ operation: ['PutObject', 'UploadPart', 'CreateMultipartUpload'], key: isData, action: { kind: 'fail' } });
    let r: BackupResult;
    try {
      r = await backup({ backupId: 'replica-fails', replicas: [replica] });
    } finally {
      rule.remove();
    }
    assert.equal(r.replicated, false);
    assert.equal(r.failedReplicas.length, 1);
    assert.equal(r.failedReplicas[0]?.name, 'dr');
    assert.equal(r.failedReplicas[0]?.reason, 'UploadFailed');
    assert.match(r.failedReplicas[0]?.message ?? '', /dr/);
    assert.equal(r.destinations[1]?.verified, false);
    assert.deepEqual(r.manifest.destinations.map((d) => d.name), ['primary'], 'the manifest lists only verified copies');
    await assertNothingOf(replica, 'replica-fails');
  });

  it('the abort signal mid-upload (SIGTERM, lost leadership) aborts the multipart upload and leaves nothing', async () => {
    const rule = faults.inject({ operation: 'UploadPart', action: { kind: 'stall' } });
    const controller = new AbortController();
    const running = backup({ backupId: 'aborted', signal: controller.signal });
    try {
      await eventually('a stalled part upload', () => rule.hits >= 1, GENEROUS_WAIT_MS, undefined, 20);
      controller.abort();
      await assert.rejects(running, reason('Cancelled'));
    } finally {
      rule.remove();
    }
    await assertNothingOf(direct, 'aborted');
  });

  it('a backup over its own timeout is cancelled and leaves nothing', async () => {
    const rule = faults.inject({ operation: 'UploadPart', action: { kind: 'stall' } });
    try {
      await assert.rejects(backup({ backupId: 'timed-out', timeoutMs: 3000 }), reason('Cancelled', /exceeded its timeout of 3s/));
    } finally {
      rule.remove();
    }
    await assertNothingOf(direct, 'timed-out');
  });

  it('a restore whose download is cut mid-body fails clearly and leaves no database', async () => {
    const good = await backup({ backupId: 'restore-source' });
    const rule = faults.inject({ operation: 'GetObject', key: isData, action: { kind: 'cut', afterBytes: 2 * MiB } });
    const restored = { ...target, database: `${db.name}_cut` };
    try {
      await assert.rejects(
        runRestore({ store: primary, manifestKey: good.manifestKey, identities: [key.identity], target: restored, createDatabase: true, binDirs: { [pg.major]: pg.binDir } }),
        (e: unknown) => reason('DownloadFailed', /^restore of restore-source: /)(e) && !/AGE-SECRET|pg_restore/.test((e as Error).message),
      );
    } finally {
      rule.remove();
    }
    assert.ok(rule.hits >= 1);
    const { rows } = await pg.query<{ n: string }>('SELECT count(*) AS n FROM pg_database WHERE datname = $1', [restored.database]);
    assert.equal(rows[0]?.n, '0', 'the database the restore created was dropped');
    // Without the fault the same backup restores: the failure was the cut, not the backup.
    const ok = await runRestore({ store: primary, manifestKey: good.manifestKey, identities: [key.identity], target: restored, createDatabase: true, binDirs: { [pg.major]: pg.binDir } });
    assert.equal(ok.rowCountCheck?.passed, true);
  });
});
