// A policy's backup records its owner in the manifest and lives in the owner's folder, so listing and
// pruning for another policy (or without an owner) never see it; a timeout cancels the run.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { generateIdentity } from '../../../src/adapters/age/index.ts';
import { listBackups, runBackup, type BackupOwner } from '../../../src/engines/backup/index.ts';
import { ManualClock } from '../../../src/clock.ts';
import { isOperatorError } from '../../../src/errors.ts';
import { MemoryStore, fakeSource } from './fakes.ts';

const key = generateIdentity();
const clock = new ManualClock('2026-03-01T02:00:00Z');
const owner: BackupOwner = { cluster: 'prod', namespace: 'lokdarpan', name: 'nightly', uid: '7f0c' };

describe('runBackup with an owner', () => {
  it('writes into the owner folder and records the owner', async () => {
    const primary = new MemoryStore('primary', 'b', 'pre/');
    const r = await runBackup({ source: fakeSource({ output: randomBytes(1000) }), primary, recipients: [key.recipient], clock, owner });
    assert.equal(r.manifestKey, 'pre/fake/policies/prod/lokdarpan/nightly/20260301T020000Z.manifest.json');
    assert.deepEqual(r.manifest.owner, owner);
    assert.deepEqual(r.failedReplicas, []);
    assert.deepEqual((await listBackups(primary, 'fake', { owner })).backups.map((b) => b.id), [r.id]);
    assert.deepEqual((await listBackups(primary, 'fake', { owner: { ...owner, name: 'hourly' } })).backups, []);
    assert.deepEqual((await listBackups(primary, 'fake', { owner: { ...owner, cluster: 'staging' } })).backups, []);
    assert.deepEqual((await listBackups(primary, 'fake')).backups, [], 'the owner-less view does not include policy backups');
    assert.deepEqual((await listBackups(primary, 'fake', { allOwners: true })).backups.map((b) => b.id), [r.id]);
  });

  it('a failed replica is listed in failedReplicas with its reason', async () => {
    const primary = new MemoryStore('primary');
    const replica = new MemoryStore('dr');
    replica.failPuts = true;
    const r = await runBackup({ source: fakeSource({ output: randomBytes(1000) }), primary, replicas: [replica], recipients: [key.recipient], clock, owner, backupId: 'x1' });
    assert.equal(r.replicated, false);
    assert.deepEqual(r.failedReplicas.map((f) => [f.name, f.reason]), [['dr', 'UploadFailed']]);
    assert.deepEqual([...replica.objects.keys()], [], 'the replica copy was taken back');
  });

  it('rejects a non-positive timeout', async () => {
    await assert.rejects(
      runBackup({ source: fakeSource({ output: randomBytes(10) }), primary: new MemoryStore('p'), recipients: [key.recipient], clock, timeoutMs: 0 }),
      (e: unknown) => isOperatorError(e) && e.reason === 'InvalidRequest',
    );
  });
});
