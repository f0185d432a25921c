// Green means tonight's backup will work: BackupPolicies and RetentionPolicies check their destinations,
// database and keys on apply, without writing a backup, on the real parts (operator as a child process,
// kube-apiserver, PostgreSQL, two SeaweedFS regions with a read-only identity). Each broken policy turns
// Ready False with the reason within 30 s of its apply, and True again within 30 s of the fix, whether
// the fix is a Secret change, a spec change, a new bucket or a GRANT. One operator serves every case.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { condition, describe as describeObj, startControllersEnv, type ControllersEnv, type Obj } from './controllers-harness.ts';
import { SUITE_TIMEOUT_MS } from '../wait.ts';

const BUCKET = 'probe-ok';
const DR_BUCKET = 'probe-dr';
const MISSING_BUCKET = 'probe-created-later';
const UNVERSIONED_BUCKET = 'probe-versioned-later';
const LOCKED_BUCKET = 'probe-locked';
const DEADLINE_MS = 30_000;

describe('policy checks: Ready tells whether the next run can work', { timeout: SUITE_TIMEOUT_MS }, () => {
  let env: ControllersEnv;
  let db: { name: string; dbName: string };
  let appUser: string;

  const policy = (name: string, overrides: { destination?: Record<string, unknown>; replicas?: Array<Record<string, unknown>>; restoreDrill?: Record<string, unknown> } = {}): object =>
    env.backupPolicy(name, db.name, {
      destination: overrides.destination ?? env.destination('primary', 'primary', BUCKET),
      replicas: overrides.replicas ?? [env.destination('secondary', 'dr', DR_BUCKET)],
      ...(overrides.restoreDrill ? { restoreDrill: overrides.restoreDrill } : {}),
    });
  const secret = (name: string, stringData: Record<string, string>): Promise<void> =>
    env.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: env.h.namespace }, type: 'Opaque', stringData });
  const ready = (o: Obj): string => `${condition(o, 'Ready')?.status}/${condition(o, 'Ready')?.reason}`;

  /** Waits (from `since`, at most 30 s) until Ready has `status` (and `reason`); returns the object. */
  const readyWithin = async (plural: 'backuppolicies' | 'retentionpolicies', name: string, since: number, status: 'True' | 'False', reason?: string): Promise<Obj> => {
    const left = DEADLINE_MS - (Date.now() - since);
    const o = await env.waitFor(plural, name, `Ready ${status} ${reason ?? ''} within 30 s`, (p) => condition(p, 'Ready')?.status === status && (reason === undefined || condition(p, 'Ready')?.reason === reason), Math.max(left, 1));
    assert.ok(Date.now() - since <= DEADLINE_MS, `${name}: ${ready(o)} after ${Date.now() - since} ms`);
    return o;
  };

  before(async () => {
    env = await startControllersEnv({ buckets: { primary: [BUCKET, UNVERSIONED_BUCKET], secondary: [DR_BUCKET], locked: [LOCKED_BUCKET] } });
    await env.startOperator();
    db = await env.readyDatabase('probedb');
    appUser = env.h.databaseOf(env.h.namespace, db.name).appUser;
    env.trackSecret(env.s3.primary.readOnly.secretAccessKey);
  });

  after(async () => {
    await env?.stop();
  });

  it('a role without SELECT on one table: DatabaseReady False naming it; True after the GRANT', async () => {
    await env.h.pg.query('CREATE TABLE public.audit_private (id int PRIMARY KEY)', [], db.dbName);
    const applied = Date.now();
    await env.apply(policy('no-select'));
    const broken = await readyWithin('backuppolicies', 'no-select', applied, 'False', 'TableNotReadable');
    assert.equal(condition(broken, 'DatabaseReady')?.status, 'False');
    assert.match(condition(broken, 'DatabaseReady')?.message ?? '', /may not SELECT table public\.audit_private/);
    assert.equal(condition(broken, 'DestinationsReady')?.status, 'True', describeObj(broken));
    assert.equal(condition(broken, 'KeysReady')?.status, 'True');
    const events = await env.events('no-select');
    assert.ok(events.some((e) => e.type === 'Warning' && e.reason === 'TableNotReadable'), events.map((e) => e.reason).join(', '));

    const fixed = Date.now();
    await env.h.pg.query(`GRANT SELECT ON public.audit_private TO "${appUser}"`, [], db.dbName);
    const ok = await readyWithin('backuppolicies', 'no-select', fixed, 'True');
    assert.equal(condition(ok, 'DatabaseReady')?.reason, 'DatabaseVerified');
    assert.match(condition(ok, 'DestinationsReady')?.message ?? '', /primary .*dr /);
    assert.deepEqual(await env.keys('primary', BUCKET), [], 'the probe objects are gone');
    assert.deepEqual(await env.keys('secondary', DR_BUCKET), []);
  });

  it('wrong credentials, a missing bucket, a missing Secret, a read-only key, bucket settings short of the required, a foreign drill identity, a rule on a missing table: False at once, True after each fix', async () => {
    await secret('s3-wrong', { accessKeyId: env.s3.primary.accessKeyId, secretAccessKey: 'not-the-right-secret-key' });
    await secret('s3-readonly', { accessKeyId: env.s3.primary.readOnly.accessKeyId, secretAccessKey: env.s3.primary.readOnly.secretAccessKey });
    await secret('drill-id', { identity: env.wrongKey.identity });
    const primary = env.destination('primary', 'primary', BUCKET);
    const retention = {
      apiVersion: 'lokdarpan.io/v1alpha1',
      kind: 'RetentionPolicy',
      metadata: { name: 'missing-table', namespace: env.h.namespace },
      spec: {
        databaseRef: { name: db.name },
        schedule: '0 0 1 1 *',
        useDefaultRules: false,
        rules: [{ name: 'old-events', table: 'scratch_events', action: 'delete', olderThan: { column: 'created_at', age: '30d' } }],
      },
    };
    const cases: Array<{ plural: 'backuppolicies' | 'retentionpolicies'; name: string; manifest: object; check: string; reason: string; message: RegExp; fix: () => Promise<void>; fixedMessage?: RegExp }> = [
      {
        plural: 'backuppolicies', name: 'wrong-creds', manifest: policy('wrong-creds', { destination: { ...primary, credentialsSecret: 's3-wrong' } }),
        check: 'DestinationsReady', reason: 'DestinationCredentialsRejected', message: /destination primary .*rejected the credentials/,
        fix: () => secret('s3-wrong', { accessKeyId: env.s3.primary.accessKeyId, secretAccessKey: env.s3.primary.secretAccessKey }),
      },
      {
        plural: 'backuppolicies', name: 'missing-bucket', manifest: policy('missing-bucket', { destination: env.destination('primary', 'primary', MISSING_BUCKET) }),
        check: 'DestinationsReady', reason: 'BucketNotFound', message: new RegExp(`bucket ${MISSING_BUCKET} does not exist`),
        fix: () => env.s3.primary.createBucket(MISSING_BUCKET),
      },
      {
        plural: 'backuppolicies', name: 'missing-secret', manifest: policy('missing-secret', { destination: { ...primary, credentialsSecret: 's3-created-later' } }),
        check: 'DestinationsReady', reason: 'SecretNotFound', message: /destination primary: Secret .*s3-created-later not found/,
        fix: () => secret('s3-created-later', { accessKeyId: env.s3.primary.accessKeyId, secretAccessKey: env.s3.primary.secretAccessKey }),
      },
      {
        plural: 'backuppolicies', name: 'read-only', manifest: policy('read-only', { destination: { ...primary, credentialsSecret: 's3-readonly' } }),
        check: 'DestinationsReady', reason: 'DestinationAccessDenied', message: /destination primary .*may not write/,
        fix: () => env.apply(policy('read-only')),
      },
      {
        plural: 'backuppolicies', name: 'unversioned', manifest: policy('unversioned', { destination: { ...env.destination('primary', 'primary', UNVERSIONED_BUCKET), requireVersioning: true } }),
        check: 'DestinationsReady', reason: 'DestinationSettingsMismatch', message: new RegExp(`^destination primary \\(s3://${UNVERSIONED_BUCKET}/lokdarpan/\\): versioning is required but is Off$`),
        fix: async () => {
          const s3 = env.s3.primary.client();
          try {
            await s3.send(new PutBucketVersioningCommand({ Bucket: UNVERSIONED_BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
          } finally {
            s3.destroy();
          }
        },
        fixedMessage: /primary \(versioning Enabled\)/,
      },
      {
        // The other policies' replica is this bucket too: they share its probe, this one alone requires Object Lock.
        plural: 'backuppolicies', name: 'unlocked-replica', manifest: policy('unlocked-replica', { replicas: [{ ...env.destination('secondary', 'dr', DR_BUCKET), requireObjectLock: true }] }),
        check: 'DestinationsReady', reason: 'DestinationSettingsMismatch', message: new RegExp(`^destination dr \\(s3://${DR_BUCKET}/lokdarpan/\\): Object Lock is required but is not enabled on the bucket$`),
        fix: () => env.apply(policy('unlocked-replica', { replicas: [{ ...env.destination('primary', 'dr', LOCKED_BUCKET), requireObjectLock: true, requireVersioning: true }] })),
        fixedMessage: /dr \(versioning Enabled, Object Lock on\)/,
      },
      {
        plural: 'backuppolicies', name: 'foreign-drill', manifest: policy('foreign-drill', { restoreDrill: { schedule: '0 0 1 1 *', identitySecret: { name: 'drill-id' } } }),
        check: 'KeysReady', reason: 'DrillIdentityMismatch', message: /restore drill identity \(Secret drill-id key identity\) is for age1.*not among the 1 recipient/,
        fix: () => secret('drill-id', { identity: env.key.identity }),
      },
      {
        plural: 'retentionpolicies', name: 'missing-table', manifest: retention,
        check: 'DatabaseReady', reason: 'RetentionUnknownTable', message: /table public\.scratch_events does not exist/,
        fix: async () => {
          await env.h.pg.query('CREATE TABLE public.scratch_events (id bigint PRIMARY KEY, created_at timestamptz NOT NULL)', [], db.dbName);
          await env.h.pg.query(`GRANT SELECT, DELETE ON public.scratch_events TO "${appUser}"`, [], db.dbName);
        },
      },
    ];

    await Promise.all(cases.map(async (c) => {
      const applied = Date.now();
      await env.apply(c.manifest);
      const broken = await readyWithin(c.plural, c.name, applied, 'False', c.reason);
      const failing = condition(broken, c.check);
      assert.equal(failing?.status, 'False', `${c.name}: ${describeObj(broken)}`);
      assert.equal(failing?.reason, c.reason);
      assert.match(failing?.message ?? '', c.message, c.name);
      assert.match(condition(broken, 'Ready')?.message ?? '', new RegExp(`^${c.check}: `));
      assert.equal(condition(broken, 'Stalled')?.status, 'True', `${c.name}: kstatus must not see it Current`);
    }));

    await Promise.all(cases.map(async (c) => {
      const fixed = Date.now();
      await c.fix();
      const ok = await readyWithin(c.plural, c.name, fixed, 'True');
      assert.equal(condition(ok, c.check)?.status, 'True', `${c.name}: ${describeObj(ok)}`);
      assert.equal(condition(ok, 'Stalled')?.status, 'False', `${c.name}: ${describeObj(ok)}`);
      if (c.fixedMessage) assert.match(condition(ok, c.check)?.message ?? '', c.fixedMessage, c.name);
    }));
    const rp = await env.get('retentionpolicies', 'missing-table');
    assert.equal(condition(rp, 'Ready')?.reason, 'NotRunYet', describeObj(rp));
    assert.equal(condition(rp, 'DestinationsReady')?.reason, 'NoArchiveDestination');
    for (const bucket of [BUCKET, UNVERSIONED_BUCKET, LOCKED_BUCKET]) assert.deepEqual((await env.keys('primary', bucket)).filter((k) => k.includes('.lokdarpan-probe/')), [], bucket);
    await env.assertNoSecretsLeaked();
  });
});
