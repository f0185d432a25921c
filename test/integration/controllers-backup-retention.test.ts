// Retention of backups through a BackupPolicy on the real parts: the primary bucket has S3 Object Lock,
// the replica bucket is in the other region. With keepLast 2 (no daily/weekly/monthly keeps), after each
// new successful Backup the policy prunes both destinations: the older backups disappear from both, and
// their Backup objects are deleted; the one under a legal hold is skipped on the primary and reported
// (status.lastPrune.locked, event BackupsLocked), not treated as a failure.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PutObjectLegalHoldCommand } from '@aws-sdk/client-s3';
import { condition, describe as describeObj, startControllersEnv, type ControllersEnv, type Obj } from './controllers-harness.ts';
import { SUITE_TIMEOUT_MS } from '../wait.ts';

const LOCKED = 'locked-backups';
const DR_BUCKET = 'retention-dr';
const POLICY = 'keep-two';

describe('BackupPolicy retention (GFS keepLast) over two destinations, with Object Lock', { timeout: SUITE_TIMEOUT_MS }, () => {
  let env: ControllersEnv;
  const done: Record<string, Obj> = {};

  const backup = async (name: string): Promise<Obj> => {
    const b = await env.runBackup(name, POLICY);
    assert.equal(b.status?.['phase'], 'Completed', describeObj(b));
    return b;
  };
  const ids = async (server: 'primary' | 'secondary', bucket: string, suffix: string): Promise<string[]> =>
    (await env.keys(server, bucket)).filter((k) => k.endsWith(suffix)).map((k) => k.split('/').pop()!.replace(suffix, '')).sort();

  before(async () => {
    env = await startControllersEnv({ buckets: { locked: [LOCKED], secondary: [DR_BUCKET] } });
    await env.startOperator();
    const db = await env.readyDatabase('retdb');
    await env.h.seed(env.h.databaseOf(env.h.namespace, db.name), { posts: 800 });
    await env.apply(env.backupPolicy(POLICY, db.name, {
      destination: env.destination('primary', 'primary', LOCKED),
      replicas: [env.destination('secondary', 'dr', DR_BUCKET)],
      retention: { keepLast: 2, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 },
    }));
  });

  after(async () => {
    await env?.stop();
  });

  it('keepLast 2: older backups are deleted from both destinations and their Backup objects are gone; a legal hold is skipped and reported', async () => {
    done['b1'] = await backup('b1');
    // A legal hold on b1's data object in the primary (Object Lock bucket).
    const dataKey = (done['b1'].status?.['destinations'] as Array<{ key: string }>)[0]!.key;
    await env.client('primary').send(new PutObjectLegalHoldCommand({ Bucket: LOCKED, Key: dataKey, LegalHold: { Status: 'ON' } }));
    for (const name of ['b2', 'b3', 'b4']) {
      done[name] = await backup(name);
      // Each new success is followed by a prune.
      await env.waitFor('backuppolicies', POLICY, `pruned after ${name}`, (p) => p.status?.['lastPrune']?.afterBackup === name);
    }

    const policy = await env.get('backuppolicies', POLICY);
    const prune = policy?.status?.['lastPrune'];
    assert.equal(prune?.afterBackup, 'b4', describeObj(policy));
    assert.ok(prune?.locked >= 1, `lastPrune.locked ${prune?.locked}`);
    assert.equal(prune?.errors, undefined, describeObj(policy));
    assert.equal(condition(policy, 'Ready')?.status, 'True', 'a locked object is no failure');

    // Primary: b1 stays (legal hold), b2 is gone, b3 and b4 are kept.
    assert.deepEqual(await ids('primary', LOCKED, '.manifest.json'), ['b1', 'b3', 'b4']);
    assert.deepEqual(await ids('primary', LOCKED, '.dump.zst.age'), ['b1', 'b3', 'b4']);
    // The replica has no lock: only the two newest stay.
    assert.deepEqual(await ids('secondary', DR_BUCKET, '.manifest.json'), ['b3', 'b4']);
    assert.deepEqual(await ids('secondary', DR_BUCKET, '.dump.zst.age'), ['b3', 'b4']);

    // The Backup object of the deleted backup is gone; the locked one still describes what is stored.
    const names = (await env.list('backups')).map((b) => b.metadata.name).sort();
    assert.deepEqual(names, ['b1', 'b3', 'b4']);

    const events = await env.events(POLICY);
    const locked = events.find((e) => e.reason === 'BackupsLocked');
    assert.ok(locked, `BackupsLocked event; got ${events.map((e) => e.reason).join(', ')}`);
    assert.match(locked.message, /Object Lock/);
    assert.ok(events.some((e) => e.reason === 'BackupsPruned'), events.map((e) => e.reason).join(', '));
  });

  it('no secret appears in logs, events or statuses', async () => {
    await env.assertNoSecretsLeaked();
  });
});
