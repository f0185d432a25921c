// Two operator replicas (child processes, leader election on a Lease) and a BackupPolicy on `* * * * *`.
// The leader is SIGKILLed while its scheduled backup is in flight (pg_dump has written everything, the
// upload waits for pg_dump to exit: a test wrapper sleeps there). Nothing completed-looking is left in
// S3; the other replica takes the lease and marks that Backup Failed/Interrupted; the killed one
// restarts; the next scheduled slot succeeds, run by one replica only: one Backup and one manifest per
// slot, none for the interrupted one.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { condition, describe as describeObj, eventually, pgDumpControl, pgDumpDone, startControllersEnv, type ControllersEnv, type Obj, type OperatorProcess } from './controllers-harness.ts';
import { GENEROUS_WAIT_MS, SUITE_TIMEOUT_MS } from '../wait.ts';

const BUCKET = 'kill-backups';
const DR_BUCKET = 'kill-dr';
const POLICY = 'every-minute';

describe('Backups across an operator kill and two replicas (leader election)', { timeout: SUITE_TIMEOUT_MS }, () => {
  let env: ControllersEnv;
  const operators: Record<string, OperatorProcess> = {};
  const leaderEnv = { LOKDARPAN_LEADER_ELECTION: 'true' };

  const policyBackups = async (): Promise<Obj[]> => (await env.list('backups')).filter((b) => b.metadata.labels?.['lokdarpan.io/backup-policy'] === POLICY);

  before(async () => {
    env = await startControllersEnv({ buckets: { primary: [BUCKET], secondary: [DR_BUCKET] } });
    operators['a'] = await env.startOperator({ name: 'replica-a', env: leaderEnv, waitReady: false });
    operators['b'] = await env.startOperator({ name: 'replica-b', env: leaderEnv, waitReady: false });
    const db = await env.readyDatabase('killdb');
    await env.h.seed(env.h.databaseOf(env.h.namespace, db.name), { posts: 1500 });
    pgDumpControl(env.wrapperDir, { sleepAfter: 25 });
    await env.apply(env.backupPolicy(POLICY, db.name, {
      schedule: '* * * * *',
      startingDeadline: '5m',
      destination: env.destination('primary', 'primary', BUCKET),
      replicas: [env.destination('secondary', 'dr', DR_BUCKET)],
      retention: { keepLast: 50 },
    }));
  });

  after(async () => {
    pgDumpControl(env.wrapperDir, {});
    await env?.stop();
  });

  let interrupted: Obj;

  it('SIGKILL of the leader during the backup: no manifest or object in S3; the other replica marks it Failed/Interrupted', async () => {
    const running = await eventually(
      'the first scheduled Backup to be Running',
      async () => (await policyBackups()).find((b) => b.status?.['phase'] === 'Running'),
      GENEROUS_WAIT_MS,
      async () => (await policyBackups()).map(describeObj).join('\n'),
    );
    const runningOn = String(running.status?.['runningOn']);
    const leaderKey = runningOn.startsWith('replica-a_') ? 'a' : runningOn.startsWith('replica-b_') ? 'b' : undefined;
    assert.ok(leaderKey, `runningOn ${runningOn}`);
    const leader = operators[leaderKey]!;
    const other = operators[leaderKey === 'a' ? 'b' : 'a']!;
    // pg_dump is done and its bytes are in the upload; the wrapper holds the stream open.
    await eventually('pg_dump to have written the whole dump', async () => pgDumpDone(env.wrapperDir));
    const killedAt = Date.now();
    await leader.kill();
    pgDumpControl(env.wrapperDir, {});

    const name = running.metadata.name;
    interrupted = await env.waitFor('backups', name, 'Failed by the other replica', (b) => b.status?.['phase'] === 'Failed');
    assert.equal(interrupted.status?.['reason'], 'Interrupted', describeObj(interrupted));
    // Reported, not asserted (bench/RESULTS.md): the lease has to expire before the other replica may act.
    console.log(`take-over of the running backup: marked Interrupted by the other replica ${Date.now() - killedAt} ms after the SIGKILL`);
    assert.match(interrupted.status?.['message'], /no manifest was written/);
    assert.equal(condition(interrupted, 'Succeeded')?.status, 'False');
    // Recorded by the surviving replica (the Event's reportingInstance is the replica's identity). The
    // Event is recorded just after the status write seen above, so wait for it.
    const interruptedEvents = await eventually(
      'the Interrupted event',
      async () => {
        const out = await env.h.kubectlOk(['get', 'events.v1.events.k8s.io', '-n', env.h.namespace, '-o', 'json']);
        const found = (JSON.parse(out) as { items: Array<{ reason: string; reportingInstance: string; regarding: { name: string } }> }).items.filter(
          (e) => e.reason === 'Interrupted' && e.regarding.name === name,
        );
        return found.length > 0 ? found : undefined;
      },
      GENEROUS_WAIT_MS,
    );
    assert.deepEqual(interruptedEvents.map((e) => e.reportingInstance.split('_')[0]), [other.name], 'the Interrupted event comes from the other replica');
    for (const [server, bucket] of [['primary', BUCKET], ['secondary', DR_BUCKET]] as const) {
      const keys = await env.keys(server, bucket);
      assert.deepEqual(keys.filter((k) => k.includes(name)), [], `nothing of ${name} in ${bucket}: ${keys.join(', ')}`);
    }
    // The killed replica comes back (same pod name, new process) and stands by.
    operators['restarted'] = await env.startOperator({ name: `${leader.name}-restarted`, env: { ...leaderEnv, POD_NAME: leader.name }, waitReady: false });
  });

  it('the next scheduled slot succeeds, run once: one Backup and one manifest per slot, none for the interrupted slot', async () => {
    const next = await eventually(
      'a later scheduled Backup to complete',
      async () => (await policyBackups()).find((b) => b.metadata.name > interrupted.metadata.name && b.status?.['phase'] === 'Completed'),
      100_000,
      async () => (await policyBackups()).map(describeObj).join('\n'),
    );
    assert.equal(next.status?.['replicated'], true, describeObj(next));
    const policy = await env.waitFor('backuppolicies', POLICY, 'LastBackupSucceeded True', (p) => condition(p, 'LastBackupSucceeded')?.status === 'True');
    assert.equal(policy.status?.['lastFailedBackup'], interrupted.metadata.name);

    // Stop further slots, and let a run already started finish, so the listing below is stable.
    await env.h.kubectlOk(['patch', 'backuppolicies', POLICY, '-n', env.h.namespace, '--type=merge', '-p', '{"spec":{"suspend":true}}']);
    await eventually('no Backup of the policy running', async () => (await policyBackups()).every((b) => b.status?.['phase'] === 'Completed' || b.status?.['phase'] === 'Failed'));
    // One Backup object per slot.
    const backups = await policyBackups();
    const slots = backups.map((b) => b.metadata.annotations?.['lokdarpan.io/scheduled-at']);
    assert.equal(new Set(slots).size, slots.length, `slots ${slots.join(', ')}`);
    // One manifest per completed slot, in each bucket; the interrupted slot has none.
    const completed = backups.filter((b) => b.status?.['phase'] === 'Completed').map((b) => b.metadata.name).sort();
    assert.ok(completed.includes(next.metadata.name));
    for (const [server, bucket] of [['primary', BUCKET], ['secondary', DR_BUCKET]] as const) {
      const manifests = (await env.keys(server, bucket)).filter((k) => k.endsWith('.manifest.json')).map((k) => k.split('/').pop()!.replace('.manifest.json', ''));
      assert.deepEqual(manifests.sort(), completed, bucket);
    }
    // Exactly one replica ran it: every Event about it comes from the replica named in runningOn, once.
    const out = await env.h.kubectlOk(['get', 'events.v1.events.k8s.io', '-n', env.h.namespace, '-o', 'json']);
    const about = (JSON.parse(out) as { items: Array<{ reason: string; reportingInstance: string; regarding: { name: string }; deprecatedCount?: number; series?: { count: number } }> }).items.filter(
      (e) => e.regarding.name === next.metadata.name,
    );
    assert.deepEqual([...new Set(about.map((e) => e.reportingInstance))], [next.status?.['runningOn']], JSON.stringify(about));
    const completedEvents = about.filter((e) => e.reason === 'Completed');
    assert.equal(completedEvents.length, 1);
    assert.equal(completedEvents[0]?.series, undefined, 'completed once, not repeated');
  });

  it('no secret appears in logs, events or statuses', async () => {
    await env.assertNoSecretsLeaked();
  });
});
