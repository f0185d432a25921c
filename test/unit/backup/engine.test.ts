// The backup engine against in-memory ports: the manifest is the last write of each destination, a
// pg_dump that fails after its last byte or failing row counts leave nothing behind, a failed replica is
// reported per destination, and a failed primary manifest takes the replicas' copies back.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decryptBuffer, generateIdentity } from '../../../src/adapters/age/index.ts';
import { runBackup, listBackups, verifyBackup } from '../../../src/engines/backup/index.ts';
import { ManualClock } from '../../../src/clock.ts';
import { isOperatorError } from '../../../src/errors.ts';
import { zstdDecompressSync } from 'node:zlib';
import { MemoryStore, fakeSource } from './fakes.ts';

const key = generateIdentity();
const clock = new ManualClock('2026-03-01T02:00:00Z');
const isReason = (r: string) => (e: unknown): boolean => isOperatorError(e) && e.reason === r;

describe('runBackup (fake ports)', () => {
  it('stores zstd+age of the dump, verifies, writes manifests last, replica first', async () => {
    const output = Buffer.concat([randomBytes(200_000), Buffer.alloc(300_000, 7)]);
    const primary = new MemoryStore('primary', 'b', 'pre/');
    const replica = new MemoryStore('dr');
    const source = fakeSource({ output });
    const r = await runBackup({ source, primary, replicas: [replica], recipients: [key.recipient], clock });
    assert.equal(r.id, '20260301T020000Z');
    assert.equal(r.replicated, true);
    assert.deepEqual(primary.writes, ['upload:pre/fake/20260301T020000Z.dump.zst.age', 'put:pre/fake/20260301T020000Z.manifest.json']);
    assert.deepEqual(replica.writes, ['upload:fake/20260301T020000Z.dump.zst.age', 'put:fake/20260301T020000Z.manifest.json']);
    const stored = primary.objects.get(r.destinations[0]!.key)!.data;
    assert.deepEqual(zstdDecompressSync(await decryptBuffer(stored, [key.identity])), output);
    assert.equal(r.manifest.plainBytes, output.length);
    assert.equal(r.manifest.encryptedBytes, stored.length);
    assert.equal(r.manifest.schemaVersion, '0004_ai');
    assert.deepEqual(r.manifest.destinations.map((d) => [d.name, d.verified]), [['primary', true], ['dr', true]]);
    assert.equal(source.closed, 1);
    assert.equal((await verifyBackup(replica, r.destinations[1]!.manifestKey!)).sha256, r.manifest.sha256);
    assert.deepEqual((await listBackups(primary, 'fake')).backups.map((b) => b.id), [r.id]);
  });

  it('pg_dump exiting non-zero after its whole output: DumpFailed, nothing stored, snapshot closed', async () => {
    const primary = new MemoryStore('primary');
    const source = fakeSource({ output: randomBytes(100_000), exitCode: 1 });
    await assert.rejects(runBackup({ source, primary, recipients: [key.recipient], clock }), isReason('DumpFailed'));
    assert.deepEqual([...primary.objects.keys()], []);
    assert.equal(source.closed, 1);
  });

  it('row counts failing: the object is not completed and nothing is stored', async () => {
    const primary = new MemoryStore('primary');
    await assert.rejects(runBackup({ source: fakeSource({ output: randomBytes(1000), countsFail: 'lost connection' }), primary, recipients: [key.recipient], clock }), isReason('DatabaseUnavailable'));
    assert.deepEqual([...primary.objects.keys()], []);
  });

  it('a replica whose manifest cannot be written is reported failed and its copy removed', async () => {
    const primary = new MemoryStore('primary');
    const replica = new MemoryStore('dr');
    replica.failPuts = true;
    const r = await runBackup({ source: fakeSource({ output: randomBytes(1000) }), primary, replicas: [replica], recipients: [key.recipient], clock, backupId: 'one' });
    assert.equal(r.replicated, false);
    assert.equal(r.destinations[1]?.error?.reason, 'UploadFailed');
    assert.deepEqual([...replica.objects.keys()], []);
    assert.deepEqual(r.manifest.destinations.map((d) => d.name), ['primary']);
  });

  it('the primary manifest failing fails the backup and removes every copy', async () => {
    const primary = new MemoryStore('primary');
    const replica = new MemoryStore('dr');
    primary.failPuts = true;
    await assert.rejects(runBackup({ source: fakeSource({ output: randomBytes(1000) }), primary, replicas: [replica], recipients: [key.recipient], clock, backupId: 'two' }), isReason('UploadFailed'));
    assert.deepEqual([...primary.objects.keys()], []);
    assert.deepEqual([...replica.objects.keys()], []);
  });

  it("replicaMode 'during' uploads every destination from the one stream and verifies each", async () => {
    const output = randomBytes(300_000);
    const primary = new MemoryStore('primary');
    const a = new MemoryStore('a');
    const b = new MemoryStore('b');
    const r = await runBackup({ source: fakeSource({ output }), primary, replicas: [a, b], recipients: [key.recipient], clock, backupId: 'tee', replicaMode: 'during' });
    assert.equal(r.replicated, true);
    assert.deepEqual(r.destinations.map((d) => [d.name, d.method, d.verified]), [['primary', 'upload', true], ['a', 'upload', true], ['b', 'upload', true]]);
    for (const store of [a, b]) {
      assert.deepEqual(store.writes, ['upload:fake/tee.dump.zst.age', 'put:fake/tee.manifest.json']);
      assert.deepEqual(store.objects.get('fake/tee.dump.zst.age')!.data, primary.objects.get('fake/tee.dump.zst.age')!.data);
    }
  });

  it("replicaMode 'during': a replica failing mid-stream does not stop the primary and is copied afterwards", async () => {
    const primary = new MemoryStore('primary');
    const flaky = new MemoryStore('flaky');
    flaky.failUploads = 1;
    const r = await runBackup({ source: fakeSource({ output: randomBytes(400_000) }), primary, replicas: [flaky], recipients: [key.recipient], clock, backupId: 'flaky', replicaMode: 'during' });
    assert.equal(r.replicated, true);
    assert.deepEqual(r.destinations.map((d) => [d.name, d.method, d.verified]), [['primary', 'upload', true], ['flaky', 'stream', true]]);
  });

  it("replicaMode 'during': pg_dump failing late leaves nothing in any destination", async () => {
    const primary = new MemoryStore('primary');
    const a = new MemoryStore('a');
    await assert.rejects(
      runBackup({ source: fakeSource({ output: randomBytes(300_000), exitCode: 2 }), primary, replicas: [a], recipients: [key.recipient], clock, backupId: 'bad', replicaMode: 'during' }),
      isReason('DumpFailed'),
    );
    assert.deepEqual([...primary.objects.keys()], []);
    assert.deepEqual([...a.objects.keys()], []);
  });

  it('refuses bad options before touching anything', async () => {
    const primary = new MemoryStore('primary');
    const source = fakeSource({ output: Buffer.alloc(1) });
    await assert.rejects(runBackup({ source, primary, recipients: [], clock }), isReason('InvalidRequest'));
    await assert.rejects(runBackup({ source, primary, recipients: ['age1bad'], clock }), isReason('InvalidKey'));
    await assert.rejects(runBackup({ source, primary, recipients: [key.recipient], compressionLevel: 30, clock }), isReason('InvalidRequest'));
    await assert.rejects(runBackup({ source, primary, recipients: [key.recipient], backupId: '../x', clock }), isReason('InvalidRequest'));
    assert.deepEqual([...primary.objects.keys()], []);
  });
});
