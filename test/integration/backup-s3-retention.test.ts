// The S3 adapter and backup retention against a real S3 server (SeaweedFS): multipart server-side copy
// (UploadPartCopy), streaming copy across servers, an upload whose source fails leaves nothing, and
// pruning by GFS rules with a controllable clock that skips and reports Object-Locked backups; a probe
// removes the stale probe objects a killed process left.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { PutObjectLegalHoldCommand, PutObjectRetentionCommand } from '@aws-sdk/client-s3';
import { startTwoRegions, type S3Server } from '../env/s3.ts';
import { PROBE_DIRECTORY, STALE_PROBE_MS, probeStore, probeWrittenAt, type S3ObjectStore } from '../../src/adapters/s3/index.ts';
import { backupKeys, listBackups, MANIFEST_FORMAT, pruneBackups, serializeManifest, type BackupManifest } from '../../src/engines/backup/index.ts';
import { ManualClock } from '../../src/clock.ts';
import { isOperatorError } from '../../src/errors.ts';
import { keysIn, openMultipartUploads, storeOn } from './backup-fixture.ts';

const MiB = 1024 * 1024;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function fakeManifest(id: string, startedAt: string, data: Buffer): BackupManifest {
  return {
    format: MANIFEST_FORMAT, id, database: 'lokdarpan', startedAt, finishedAt: startedAt, durationMs: 0,
    server: { version: '15.14', versionNum: 150014, major: 15 }, pgDump: { version: '15.14', major: 15 },
    plainBytes: data.length, encryptedBytes: data.length, sha256: sha(data), compression: { algorithm: 'zstd', level: 1 },
    encryption: { format: 'age-v1', recipients: [] }, tables: [], destinations: [],
  };
}

describe('S3 adapter and backup retention (real S3)', () => {
  let s3: { primary: S3Server; secondary: S3Server } | undefined;
  let a: S3ObjectStore;
  let aCopy: S3ObjectStore;
  let b: S3ObjectStore;
  let locked: S3ObjectStore;

  before(async () => {
    s3 = await startTwoRegions();
    await Promise.all([
      s3.primary.createBucket('bucket-a'),
      s3.primary.createBucket('bucket-a-copy'),
      s3.primary.createBucket('locked-backups', { objectLock: true }),
      s3.secondary.createBucket('bucket-b'),
    ]);
    a = storeOn(s3.primary, 'a', 'bucket-a', 'p/');
    aCopy = storeOn(s3.primary, 'a-copy', 'bucket-a-copy', 'q');
    b = storeOn(s3.secondary, 'b', 'bucket-b');
    locked = storeOn(s3.primary, 'locked', 'locked-backups', 'prod/');
  });

  after(async () => {
    for (const s of [a, aCopy, b, locked]) s?.destroy();
    await Promise.allSettled([s3?.primary.stop(), s3?.secondary.stop()]);
  });

  it('copies server-side with UploadPartCopy above the threshold, and streams across servers', async () => {
    const data = randomBytes(11 * MiB + 123);
    await a.upload(a.key('big.bin'), Readable.from([data]), { partSize: 5 * MiB });
    const server = await aCopy.copyFrom(a, a.key('big.bin'), aCopy.key('big.bin'), { multipartThreshold: 1, copyPartSize: 5 * MiB });
    assert.equal(server.method, 'server-multipart');
    assert.equal(sha(await aCopy.getBuffer(aCopy.key('big.bin'))), sha(data));
    const small = await aCopy.copyFrom(a, a.key('big.bin'), aCopy.key('small-threshold.bin'));
    assert.equal(small.method, 'server');
    const streamed = await b.copyFrom(a, a.key('big.bin'), b.key('big.bin'), { upload: { partSize: 5 * MiB } });
    assert.equal(streamed.method, 'stream');
    assert.equal(sha(await b.getBuffer(b.key('big.bin'))), sha(data));
    assert.equal(aCopy.key('x'), 'q/x');
  });

  it('an upload whose source fails mid-way rejects and leaves no object and no open multipart upload', async () => {
    let sent = 0;
    const failing = new Readable({
      read() {
        if (sent >= 12 * MiB) this.destroy(new Error('source broke'));
        else {
          sent += MiB;
          this.push(randomBytes(MiB));
        }
      },
    });
    await assert.rejects(a.upload(a.key('broken.bin'), failing, { partSize: 5 * MiB }), (e: unknown) => isOperatorError(e) && e.reason === 'UploadFailed' && /source broke/.test(e.message));
    assert.equal(await a.head(a.key('broken.bin')), undefined);
    assert.equal(await openMultipartUploads(a), 0);
  });

  it('a successful probe removes the probes a killed process left behind, and only those', async () => {
    const hex = (): string => randomBytes(6).toString('hex');
    const staleAt = Date.now() - STALE_PROBE_MS - 60_000;
    const stale = a.key(`${PROBE_DIRECTORY}${staleAt}-${hex()}`);
    const inFlight = a.key(`${PROBE_DIRECTORY}${Date.now() - 5_000}-${hex()}`);
    const notAProbe = a.key(`${PROBE_DIRECTORY}notes.txt`);
    for (const key of [stale, inFlight, notAProbe]) await a.upload(key, Readable.from([randomBytes(32)]));
    assert.equal(probeWrittenAt(stale), staleAt);
    assert.equal(probeWrittenAt(notAProbe), undefined);
    await probeStore(a);
    assert.deepEqual(await keysIn(a, PROBE_DIRECTORY), [inFlight, notAProbe].sort());
  });

  it('prunes by GFS rules with a controllable clock, skips locked backups and reports them', async () => {
    const clock = new ManualClock('2026-03-31T12:00:00Z');
    const days = ['2026-03-31', '2026-03-30', '2026-03-29', '2026-03-20', '2026-02-27', '2026-01-15', '2025-12-01'];
    for (const day of days) {
      const id = `${day.replace(/-/g, '')}T020000Z`;
      const keys = backupKeys('lokdarpan', id);
      const data = randomBytes(1000);
      await locked.put(locked.key(keys.data), data);
      await locked.put(locked.key(keys.manifest), serializeManifest(fakeManifest(id, `${day}T02:00:00Z`, data)));
    }
    // An incomplete run (data without manifest): deleted once older than the grace period.
    await locked.put(locked.key('lokdarpan/20260331T030000Z.dump.zst.age'), randomBytes(10));
    // Locks: legal hold on one expired backup, governance retention into the future on another.
    const dataKey = (id: string): string => locked.key(backupKeys('lokdarpan', id).data);
    await locked.client.send(new PutObjectLegalHoldCommand({ Bucket: locked.bucket, Key: dataKey('20260115T020000Z'), LegalHold: { Status: 'ON' } }));
    await locked.client.send(
      new PutObjectRetentionCommand({ Bucket: locked.bucket, Key: dataKey('20251201T020000Z'), Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date('2027-01-01T00:00:00Z') } }),
    );

    const rules = { keepLast: 2, keepWeekly: 2, keepMonthly: 2 };
    const dry = await pruneBackups({ store: locked, database: 'lokdarpan', rules, dryRun: true, clock });
    assert.deepEqual(dry.plan.keep.map((d) => d.id), ['20260331T020000Z', '20260330T020000Z', '20260329T020000Z', '20260227T020000Z']);
    assert.deepEqual(dry.deleted, []);

    const result = await pruneBackups({ store: locked, database: 'lokdarpan', rules, clock });
    assert.deepEqual(result.deleted.sort(), ['20260320T020000Z']);
    assert.deepEqual(result.locked.map((l) => l.id).sort(), ['20251201T020000Z', '20260115T020000Z']);
    assert.deepEqual(result.failed, []);
    assert.deepEqual(result.orphansDeleted, [], 'an incomplete run younger than the grace period stays');
    // The server stamps objects with the real time: prune again a day after it, keeping every backup.
    const later = new ManualClock(new Date(Date.now() + 25 * 3600_000));
    const orphans = await pruneBackups({ store: locked, database: 'lokdarpan', rules: { keepLast: 100 }, clock: later });
    assert.deepEqual(orphans.orphansDeleted, [locked.key('lokdarpan/20260331T030000Z.dump.zst.age')]);
    assert.deepEqual(orphans.deleted, []);
    const listed = await listBackups(locked, 'lokdarpan');
    assert.deepEqual(listed.backups.map((x) => x.id), ['20251201T020000Z', '20260115T020000Z', '20260227T020000Z', '20260329T020000Z', '20260330T020000Z', '20260331T020000Z']);
    assert.deepEqual(listed.orphans, []);
    assert.ok((await keysIn(locked)).every((k) => !k.includes('20260320')));
  });
});
