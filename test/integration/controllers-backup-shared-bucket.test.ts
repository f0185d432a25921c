// Two BackupPolicies of one database on one bucket and prefix (issue 11, item 5), on the real parts: each
// backup lives in its policy's folder and its manifest names the policy and the cluster
// (LOKDARPAN_CLUSTER_NAME); with keepLast 2 each, after three backups of each both policies keep their own
// two newest, and a backup without an owner in the shared folder is pruned by neither. Both policies
// report the overlap (DestinationsOverlap True, naming the other) and stay Ready.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { condition, describe as describeObj, startControllersEnv, type ControllersEnv, type Obj } from './controllers-harness.ts';
import { SUITE_TIMEOUT_MS } from '../wait.ts';

const BUCKET = 'shared-backups';
const PREFIX = 'team/';
const CLUSTER = 'test-east';

describe('two BackupPolicies sharing a bucket and prefix', { timeout: SUITE_TIMEOUT_MS }, () => {
  let env: ControllersEnv;
  let dbName: string;

  const policy = (name: string, databaseRef: string): object =>
    env.backupPolicy(name, databaseRef, {
      destination: env.destination('primary', 'primary', BUCKET, PREFIX),
      retention: { keepLast: 2, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 },
    });
  const backup = async (policyName: string, name: string): Promise<Obj> => {
    const b = await env.runBackup(name, policyName);
    assert.equal(b.status?.['phase'], 'Completed', describeObj(b));
    await env.waitFor('backuppolicies', policyName, `pruned after ${name}`, (p) => p.status?.['lastPrune']?.afterBackup === name);
    return b;
  };
  const folder = (policyName: string): string => `${PREFIX}${dbName}/policies/${CLUSTER}/${env.h.namespace}/${policyName}/`;
  const idsIn = async (prefix: string): Promise<string[]> =>
    (await env.keys('primary', BUCKET, prefix))
      .filter((k) => k.endsWith('.manifest.json') && !k.slice(prefix.length).includes('/'))
      .map((k) => k.slice(prefix.length, -'.manifest.json'.length))
      .sort();

  before(async () => {
    env = await startControllersEnv({ buckets: { primary: [BUCKET] } });
    await env.startOperator({ env: { LOKDARPAN_CLUSTER_NAME: CLUSTER } });
    const db = await env.readyDatabase('shareddb');
    dbName = db.dbName;
    await env.h.seed(env.h.databaseOf(env.h.namespace, db.name), { posts: 200 });
    await env.apply(policy('alpha', db.name));
    await env.apply(policy('beta', db.name));
  });

  after(async () => {
    await env?.stop();
  });

  it('reports the overlap on both policies, which stay Ready', async () => {
    for (const [self, other] of [['alpha', 'beta'], ['beta', 'alpha']] as const) {
      const p = await env.waitFor('backuppolicies', self, 'DestinationsOverlap True', (o) => condition(o, 'DestinationsOverlap')?.status === 'True');
      const c = condition(p, 'DestinationsOverlap');
      assert.equal(c?.reason, 'DestinationsOverlap');
      assert.match(c?.message ?? '', new RegExp(`^primary \\(.* s3://${BUCKET}/${PREFIX}${dbName}/\\) is also written by BackupPolicy ${env.h.namespace}/${other} primary`), describeObj(p));
      assert.equal(p.status?.['database'], dbName);
      assert.equal(condition(p, 'Ready')?.status, 'True', describeObj(p));
    }
    const events = await env.events();
    assert.ok(events.some((e) => e.reason === 'DestinationsOverlap' && e.type === 'Warning'), 'a Warning event says so');
  });

  it('keepLast 2 each: both keep their own two newest; an unowned backup in the shared folder is pruned by neither', async () => {
    const first = await backup('alpha', 'alpha-1');
    assert.ok(String(first.status?.['manifestKey']).startsWith(folder('alpha')), String(first.status?.['manifestKey']));
    const manifest = JSON.parse((await env.getObject('primary', BUCKET, first.status?.['manifestKey'])).toString('utf8'));
    assert.deepEqual({ ...manifest.owner, uid: undefined }, { cluster: CLUSTER, namespace: env.h.namespace, name: 'alpha', uid: undefined });
    assert.ok(manifest.owner.uid, 'the manifest records the policy uid');

    // A backup written before owners existed (or by the CLI), older than all: in <prefix><database>/.
    const { owner: _owner, ...unowned } = manifest;
    const legacy = { ...unowned, id: 'legacy-1', startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:01:00.000Z' };
    const data = await env.getObject('primary', BUCKET, first.status?.['manifestKey'].replace('.manifest.json', '.dump.zst.age'));
    await env.client('primary').send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${dbName}/legacy-1.dump.zst.age`, Body: data }));
    await env.client('primary').send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${dbName}/legacy-1.manifest.json`, Body: JSON.stringify(legacy) }));

    await backup('beta', 'beta-1');
    for (const n of [2, 3]) {
      await backup('alpha', `alpha-${n}`);
      await backup('beta', `beta-${n}`);
    }

    assert.deepEqual(await idsIn(folder('alpha')), ['alpha-2', 'alpha-3']);
    assert.deepEqual(await idsIn(folder('beta')), ['beta-2', 'beta-3']);
    assert.deepEqual(await idsIn(`${PREFIX}${dbName}/`), ['legacy-1'], 'the unowned backup stays: its destination is shared');
    const all = await env.keys('primary', BUCKET);
    assert.equal(all.filter((k) => k.endsWith('.dump.zst.age')).length, 5, all.join('\n'));

    for (const name of ['alpha', 'beta']) {
      const p = await env.get('backuppolicies', name);
      assert.equal(p?.status?.['lastPrune']?.deleted, 1, describeObj(p));
      assert.equal(p?.status?.['lastPrune']?.kept, 2, describeObj(p));
      assert.equal(condition(p, 'Ready')?.status, 'True', describeObj(p));
    }
    const left = (await env.list('backups')).map((b) => b.metadata.name).sort();
    assert.deepEqual(left, ['alpha-2', 'alpha-3', 'beta-2', 'beta-3'], 'the Backup objects of pruned backups are deleted, only each policy\'s own');
    await env.assertNoSecretsLeaked();
  });
});
