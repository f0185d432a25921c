// The edges of the Backup, BackupPolicy and Restore controllers on the real parts (operator as a child
// process under its ServiceAccount, kube-apiserver, PostgreSQL, two S3 regions): wrong references are
// Ready=False at once; a backup whose replica failed is not Ready and the policy says so; a run longer
// than spec.timeout is cancelled (reason Timeout) leaving nothing stored; a Restore waits on the database
// lock a running backup holds, and deleting it cancels it; pruning keeps a backup an unfinished Restore
// reads (and its Backup object) while pruning the rest, until that Restore is gone.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { condition, describe as describeObj, pgDumpControl, startControllersEnv, type ControllersEnv, type Obj } from './controllers-harness.ts';
import { SUITE_TIMEOUT_MS } from '../wait.ts';

const BUCKET = 'edge-backups';
const DR_BUCKET = 'edge-dr';

describe('Backup controllers at the edges: references, replica failure, timeouts, lock and prune vs Restores', { timeout: SUITE_TIMEOUT_MS }, () => {
  let env: ControllersEnv;
  let db: { name: string; dbName: string };
  const v1 = 'lokdarpan.io/v1alpha1';

  const backup = async (name: string, policy: string, spec: Record<string, unknown> = {}): Promise<void> =>
    env.apply({ apiVersion: v1, kind: 'Backup', metadata: { name, namespace: env.h.namespace }, spec: { policyRef: { name: policy }, ...spec } });
  const policy = (name: string, spec: Record<string, unknown>): Promise<void> =>
    env.apply({
      apiVersion: v1,
      kind: 'BackupPolicy',
      metadata: { name, namespace: env.h.namespace },
      // Suspended: only the on-demand Backups of each test run.
      spec: { databaseRef: { name: db.name }, schedule: '0 2 * * *', suspend: true, destination: env.destination('primary', 'primary', BUCKET, `${name}/`), recipients: [env.key.recipient], ...spec },
    });
  const databaseExists = async (name: string): Promise<boolean> => (await env.h.pg.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;

  before(async () => {
    env = await startControllersEnv({ buckets: { primary: [BUCKET], secondary: [DR_BUCKET] } });
    await env.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's3-wrong', namespace: env.h.namespace }, stringData: { accessKeyId: 'LOKNOSUCHKEY', secretAccessKey: 'not-the-secret-key' } });
    await env.startOperator();
    db = await env.readyDatabase('edgedb');
    await env.h.seed(env.h.databaseOf(env.h.namespace, db.name), { posts: 800 });
  });

  after(async () => {
    pgDumpControl(env?.wrapperDir ?? '/nonexistent', {});
    await env?.stop();
  });

  it('a BackupPolicy naming a missing database, Secret or key is Ready=False with the reason right after apply, and Ready once fixed', async () => {
    const applied = Date.now();
    await env.apply({
      apiVersion: v1,
      kind: 'BackupPolicy',
      metadata: { name: 'no-db', namespace: env.h.namespace },
      spec: { databaseRef: { name: 'does-not-exist' }, schedule: '0 2 * * *', destination: env.destination('primary', 'primary', BUCKET), recipients: [env.key.recipient] },
    });
    await policy('no-secret', { destination: { ...env.destination('primary', 'primary', BUCKET), credentialsSecret: 's3-missing' } });
    await policy('no-identity', { restoreDrill: { schedule: '0 4 * * 0', identitySecret: { name: 'age-identity', key: 'nope' } } });
    const noDb = await env.waitFor('backuppolicies', 'no-db', 'Ready False', (o) => condition(o, 'Ready')?.status === 'False');
    assert.equal(condition(noDb, 'Ready')?.reason, 'DatabaseNotFound', describeObj(noDb));
    assert.ok(Date.now() - applied < 60_000, 'within the minute it was applied');
    const noSecret = await env.waitFor('backuppolicies', 'no-secret', 'Ready False', (o) => condition(o, 'Ready')?.status === 'False');
    assert.equal(condition(noSecret, 'Ready')?.reason, 'SecretNotFound', describeObj(noSecret));
    assert.match(condition(noSecret, 'Ready')?.message ?? '', /s3-missing/);
    const noKey = await env.waitFor('backuppolicies', 'no-identity', 'Ready False', (o) => condition(o, 'Ready')?.status === 'False');
    assert.equal(condition(noKey, 'Ready')?.reason, 'SecretKeyMissing', describeObj(noKey));
    const events = await env.events('no-db');
    assert.ok(events.some((e) => e.type === 'Warning' && e.reason === 'DatabaseNotFound'), events.map((e) => e.reason).join(', '));

    // Fixed: the next look (within 30 s) clears it.
    await env.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's3-missing', namespace: env.h.namespace }, stringData: { accessKeyId: 'a', secretAccessKey: 'b' } });
    await env.waitFor('backuppolicies', 'no-secret', 'Ready True once the Secret exists', (o) => condition(o, 'Ready')?.status === 'True', 60_000);
    for (const name of ['no-db', 'no-secret', 'no-identity']) await env.delete('backuppolicies', name);
  });

  it('a backup whose replica failed is Completed but not Ready (names the replica); the policy is Ready False ReplicaFailed', async () => {
    await policy('bad-replica', { replicas: [{ ...env.destination('secondary', 'dr', DR_BUCKET, 'bad-replica/'), credentialsSecret: 's3-wrong' }] });
    await backup('bad-replica-1', 'bad-replica');
    const b = await env.finished('backups', 'bad-replica-1');
    assert.equal(b.status?.['phase'], 'Completed', describeObj(b));
    assert.equal(b.status?.['replicated'], false);
    assert.equal(condition(b, 'Ready')?.status, 'False', describeObj(b));
    assert.equal(condition(b, 'Ready')?.reason, 'ReplicaFailed');
    assert.match(condition(b, 'Ready')?.message ?? '', /replica dr failed/);
    const p = await env.waitFor('backuppolicies', 'bad-replica', 'Ready False ReplicaFailed', (o) => condition(o, 'Ready')?.reason === 'ReplicaFailed');
    assert.equal(condition(p, 'Ready')?.status, 'False');
    assert.match(condition(p, 'Ready')?.message ?? '', /bad-replica-1: replica dr/);
    assert.equal(condition(p, 'Replicated')?.status, 'False');
    await env.delete('backuppolicies', 'bad-replica');
  });

  it('a Backup running past its spec.timeout is cancelled: Failed Timeout, no manifest, no object, no open upload', async () => {
    await policy('slow', {});
    pgDumpControl(env.wrapperDir, { sleepAfter: 60 });
    try {
      await backup('slow-1', 'slow', { timeout: '3s' });
      const b = await env.finished('backups', 'slow-1');
      assert.equal(b.status?.['phase'], 'Failed', describeObj(b));
      assert.equal(b.status?.['reason'], 'Timeout', describeObj(b));
      assert.match(b.status?.['message'] ?? '', /timeout 3s/);
    } finally {
      pgDumpControl(env.wrapperDir, {});
    }
    const keys = await env.keys('primary', BUCKET, 'slow/');
    assert.deepEqual(keys, [], `nothing stored: ${keys.join(', ')}`);
    const uploads = await env.client('primary').send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'slow/' }));
    assert.deepEqual((uploads.Uploads ?? []).map((u) => u.Key), []);
  });

  it('a Restore waits for the database lock a running backup holds; deleting it cancels it before it restores anything', async () => {
    await policy('locked', {});
    await backup('locked-1', 'locked');
    assert.equal((await env.finished('backups', 'locked-1')).status?.['phase'], 'Completed');
    pgDumpControl(env.wrapperDir, { sleepAfter: 15 });
    try {
      await backup('locked-2', 'locked');
      await env.waitFor('backups', 'locked-2', 'Running', (o) => o.status?.['phase'] === 'Running');
      await env.apply({
        apiVersion: v1,
        kind: 'Restore',
        metadata: { name: 'cancel-me', namespace: env.h.namespace },
        spec: { backupRef: { name: 'locked-1' }, target: { connectionSecret: env.superuserSecret, databaseName: 'r_cancel_me' }, identitySecret: { name: 'age-identity' } },
      });
      await env.waitFor('restores', 'cancel-me', 'Running (waiting for the lock)', (o) => o.status?.['phase'] === 'Running');
      await env.delete('restores', 'cancel-me');
      assert.equal((await env.finished('backups', 'locked-2')).status?.['phase'], 'Completed');
    } finally {
      pgDumpControl(env.wrapperDir, {});
    }
    // A Restore queued behind it on the same lock: by the time it completes, cancel-me (first in the queue)
    // would have restored into its database had it not been cancelled.
    await env.apply({
      apiVersion: v1,
      kind: 'Restore',
      metadata: { name: 'after-cancel', namespace: env.h.namespace },
      spec: { backupRef: { name: 'locked-1' }, target: { connectionSecret: env.superuserSecret, databaseName: 'r_after_cancel' }, identitySecret: { name: 'age-identity' } },
    });
    const next = await env.finished('restores', 'after-cancel');
    assert.equal(next.status?.['phase'], 'Completed', describeObj(next));
    assert.equal(await databaseExists('r_cancel_me'), false, 'the cancelled restore created nothing');
  });

  it('pruning keeps a backup an unfinished Restore reads, and its Backup object, and prunes the rest; once the Restore is gone it goes', async () => {
    await policy('keep-one', { retention: { keepLast: 1, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 } });
    const manifests = async (): Promise<string[]> =>
      (await env.keys('primary', BUCKET, 'keep-one/')).filter((k) => k.endsWith('.manifest.json')).map((k) => k.split('/').pop()!.replace('.manifest.json', '')).sort();
    const backupAndPrune = async (name: string): Promise<Obj> => {
      await backup(name, 'keep-one');
      assert.equal((await env.finished('backups', name)).status?.['phase'], 'Completed');
      return env.waitFor('backuppolicies', 'keep-one', `pruned after ${name}`, (o) => o.status?.['lastPrune']?.afterBackup === name);
    };
    await backupAndPrune('keep-one-a');
    // A Restore of it that stays Pending: its identity Secret does not exist yet.
    await env.apply({
      apiVersion: v1,
      kind: 'Restore',
      metadata: { name: 'reads-a', namespace: env.h.namespace },
      spec: { backupRef: { name: 'keep-one-a' }, target: { connectionSecret: env.superuserSecret, databaseName: 'r_reads_a' }, identitySecret: { name: 'identity-later' } },
    });
    const pending = await env.waitFor('restores', 'reads-a', 'Pending SecretNotFound', (o) => condition(o, 'Ready')?.reason === 'SecretNotFound');
    assert.equal(pending.status?.['phase'], 'Pending', describeObj(pending));

    await backupAndPrune('keep-one-b');
    const afterC = await backupAndPrune('keep-one-c');
    assert.deepEqual(afterC.status?.['lastPrune']?.keptInUse, ['keep-one-a (Restore reads-a)'], describeObj(afterC));
    assert.equal(afterC.status?.['pruneWaiting'], undefined, 'nothing waits');
    assert.deepEqual(await manifests(), ['keep-one-a', 'keep-one-c'], 'a is kept for its Restore, b (the rest) is pruned');
    assert.ok(await env.get('backups', 'keep-one-a'), 'the Backup object of the kept backup stays');
    assert.equal(await env.get('backups', 'keep-one-b'), undefined, 'the pruned one\'s Backup object is deleted');
    assert.ok((await env.events()).some((e) => e.reason === 'BackupsInUse' && /keep-one-a \(Restore reads-a\)/.test(e.message)), 'an event says why a is kept');

    await env.delete('restores', 'reads-a');
    const afterD = await backupAndPrune('keep-one-d');
    assert.equal(afterD.status?.['lastPrune']?.keptInUse, undefined, describeObj(afterD));
    assert.deepEqual(await manifests(), ['keep-one-d']);
    assert.equal(await env.get('backups', 'keep-one-a'), undefined, 'the Backup object of the pruned backup is deleted');
    const keys = await env.keys('primary', BUCKET, 'keep-one/');
    assert.ok(!keys.some((k) => k.includes('keep-one-a') || k.includes('keep-one-c')), keys.join(', '));
  });

  it('no secret appears in logs, events or statuses', async () => {
    await env.assertNoSecretsLeaked();
  });
});
