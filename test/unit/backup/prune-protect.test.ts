// pruneBackups({protect}): the backups a caller needs (a running Restore reads them) are kept whatever the
// rules say, reported as kept with the reason 'protected', while the rest of the plan is still pruned.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { generateIdentity } from '../../../src/adapters/age/index.ts';
import { listBackups, pruneBackups, runBackup, type BackupOwner } from '../../../src/engines/backup/index.ts';
import { ManualClock } from '../../../src/clock.ts';
import { MemoryStore, fakeSource } from './fakes.ts';

const key = generateIdentity();
const owner: BackupOwner = { cluster: 'prod', namespace: 'lokdarpan', name: 'nightly' };

async function fourBackups(): Promise<{ store: MemoryStore; clock: ManualClock; ids: string[] }> {
  const store = new MemoryStore('primary', 'b', 'pre/');
  const clock = new ManualClock('2026-03-01T02:00:00Z');
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    const r = await runBackup({ source: fakeSource({ output: randomBytes(200) }), primary: store, recipients: [key.recipient], clock, owner, backupId: `b${i}` });
    ids.push(r.id);
    clock.advance(3600_000);
  }
  return { store, clock, ids };
}

describe('pruneBackups with protect', () => {
  it('keeps the protected backups and prunes the rest of the plan', async () => {
    const { store, clock } = await fourBackups();
    const result = await pruneBackups({ store, database: 'fake', owner, rules: { keepLast: 1 }, clock, protect: new Set(['b1']) });
    assert.deepEqual(result.deleted.sort(), ['b0', 'b2']);
    assert.deepEqual(result.plan.keep.map((d) => [d.id, d.reasons]), [['b3', ['last']], ['b1', ['protected']]]);
    assert.deepEqual(result.plan.delete.map((d) => d.id).sort(), ['b0', 'b2']);
    assert.equal(result.plan.keep.find((d) => d.id === 'b1')?.deleteReason, undefined);
    assert.deepEqual((await listBackups(store, 'fake', { owner })).backups.map((b) => b.id), ['b1', 'b3']);
  });

  it('changes nothing when no protected backup is due for deletion', async () => {
    const { store, clock } = await fourBackups();
    const result = await pruneBackups({ store, database: 'fake', owner, rules: { keepLast: 2 }, clock, protect: new Set(['b3', 'unknown']) });
    assert.deepEqual(result.deleted.sort(), ['b0', 'b1']);
    assert.deepEqual(result.plan.keep.map((d) => [d.id, d.reasons]), [['b3', ['last']], ['b2', ['last']]]);
  });
});
