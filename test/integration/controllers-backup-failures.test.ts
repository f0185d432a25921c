// Failures of the Backup and Restore controllers on the real parts (operator as a child process, real
// apiserver, PostgreSQL, two S3 regions): each ends Failed with a clear reason, no failed backup leaves
// a manifest (or any object) in a bucket, and no restore touches a database it must not.
// Wrong identity -> DecryptionFailed; corrupted / truncated object -> ChecksumMismatch (or the age tag:
// DecryptionFailed); unreachable destination -> DestinationUnreachable; pg_dump exiting 1 -> DumpFailed
// with the multipart upload aborted; a non-empty target without overwrite -> TargetNotEmpty, untouched;
// a restoring role that may not ALTER DATABASE ... SET -> Completed with status.warnings and a Warning event.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ListMultipartUploadsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { freePort } from '../env/index.ts';
import { condition, describe as describeObj, pgDumpControl, startControllersEnv, type ControllersEnv, type Obj } from './controllers-harness.ts';
import { SUITE_TIMEOUT_MS } from '../wait.ts';
import { HNSW_EF_SEARCH_SETTING } from '../../src/engines/migrations/index.ts';

const BUCKET = 'fail-backups';
const DR_BUCKET = 'fail-dr';

describe('Backup and Restore controllers: failures end Failed with a clear reason and leave nothing behind', { timeout: SUITE_TIMEOUT_MS }, () => {
  let env: ControllersEnv;
  let db: { name: string; dbName: string };
  let good: Obj;
  let victim: Obj;

  const backup = (name: string, policy: string): Promise<Obj> => env.runBackup(name, policy);
  const restore = async (name: string, spec: Record<string, unknown>): Promise<Obj> => {
    await env.apply({ apiVersion: 'lokdarpan.io/v1alpha1', kind: 'Restore', metadata: { name, namespace: env.h.namespace }, spec: { identitySecret: { name: 'age-identity' }, ...spec } });
    return env.finished('restores', name);
  };
  const databaseExists = async (name: string): Promise<boolean> => (await env.h.pg.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  const nothingStoredFor = async (backupName: string): Promise<void> => {
    const keys = [...(await env.keys('primary', BUCKET)), ...(await env.keys('secondary', DR_BUCKET))];
    assert.deepEqual(keys.filter((k) => k.includes(backupName)), [], `objects of ${backupName}: ${keys.join(', ')}`);
    const uploads = await env.client('primary').send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    assert.deepEqual((uploads.Uploads ?? []).filter((u) => u.Key?.includes(backupName)).map((u) => u.Key), [], 'no open multipart upload');
  };
  const policy = (name: string, destination: Record<string, unknown>): object =>
    env.backupPolicy(name, db.name, { destination, replicas: [env.destination('secondary', 'dr', DR_BUCKET)], retention: { keepLast: 50 } });

  before(async () => {
    env = await startControllersEnv({ buckets: { primary: [BUCKET], secondary: [DR_BUCKET] } });
    await env.startOperator();
    db = await env.readyDatabase('faildb');
    await env.h.seed(env.h.databaseOf(env.h.namespace, db.name), { posts: 1500 });
    const closedPort = await freePort();
    await env.apply(policy('ok', env.destination('primary', 'primary', BUCKET)));
    await env.apply(policy('unreachable', { ...env.destination('primary', 'primary', BUCKET), endpoint: `http://127.0.0.1:${closedPort}` }));
    good = await backup('good-1', 'ok');
    assert.equal(good.status?.['phase'], 'Completed', describeObj(good));
    victim = await backup('victim-1', 'ok');
    assert.equal(victim.status?.['phase'], 'Completed', describeObj(victim));
  });

  after(async () => {
    await env?.stop();
  });

  it('a Restore with an identity that is no recipient: Failed DecryptionFailed, no database created', async () => {
    const r = await restore('wrong-key', { backupRef: { name: 'good-1' }, target: { connectionSecret: env.superuserSecret, databaseName: 'r_wrong_key' }, identitySecret: { name: 'wrong-identity' } });
    assert.equal(r.status?.['phase'], 'Failed', describeObj(r));
    assert.equal(r.status?.['reason'], 'DecryptionFailed');
    assert.match(r.status?.['message'], /none of the given identities is a recipient/);
    assert.equal(condition(r, 'Succeeded')?.status, 'False');
    assert.equal(await databaseExists('r_wrong_key'), false);
    const events = await env.events('wrong-key');
    assert.ok(events.some((e) => e.type === 'Warning' && e.reason === 'DecryptionFailed'), events.map((e) => e.reason).join(', '));
  });

  it('a corrupted object (bytes overwritten in S3): Failed ChecksumMismatch; truncated: ChecksumMismatch; mid-file: refused too; no database left', async () => {
    const key = (victim.status?.['destinations'] as Array<{ key: string }>)[0]!.key;
    const original = await env.getObject('primary', BUCKET, key);
    const put = (body: Buffer): Promise<unknown> => env.client('primary').send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));

    const tail = Buffer.from(original);
    for (let i = tail.length - 8; i < tail.length; i++) tail[i] = (tail[i] ?? 0) ^ 0xff;
    await put(tail);
    const corrupted = await restore('corrupted', { backupRef: { name: 'victim-1' }, target: { connectionSecret: env.superuserSecret, databaseName: 'r_corrupted' } });
    assert.equal(corrupted.status?.['phase'], 'Failed', describeObj(corrupted));
    assert.equal(corrupted.status?.['reason'], 'ChecksumMismatch', describeObj(corrupted));
    assert.equal(await databaseExists('r_corrupted'), false, 'the database the restore created is dropped');

    await put(original.subarray(0, original.length - 100));
    const truncated = await restore('truncated', { backupRef: { name: 'victim-1' }, target: { connectionSecret: env.superuserSecret, databaseName: 'r_truncated' } });
    assert.equal(truncated.status?.['phase'], 'Failed', describeObj(truncated));
    assert.equal(truncated.status?.['reason'], 'ChecksumMismatch', describeObj(truncated));
    assert.equal(await databaseExists('r_truncated'), false);

    const middle = Buffer.from(original);
    middle[Math.floor(middle.length / 2)] = (middle[Math.floor(middle.length / 2)] ?? 0) ^ 0x01;
    await put(middle);
    const mid = await restore('corrupted-middle', { backupRef: { name: 'victim-1' }, target: { connectionSecret: env.superuserSecret, databaseName: 'r_middle' } });
    assert.equal(mid.status?.['phase'], 'Failed', describeObj(mid));
    // Streaming: age's per-chunk tag catches it before the SHA-256 at the end can.
    assert.ok(['ChecksumMismatch', 'DecryptionFailed'].includes(mid.status?.['reason']), describeObj(mid));
    assert.equal(await databaseExists('r_middle'), false);
  });

  it('a Backup whose destination is unreachable (closed port): Failed DestinationUnreachable, nothing stored, policy condition False', async () => {
    const b = await backup('unreachable-1', 'unreachable');
    assert.equal(b.status?.['phase'], 'Failed', describeObj(b));
    assert.equal(b.status?.['reason'], 'DestinationUnreachable', describeObj(b));
    assert.equal(condition(b, 'Succeeded')?.status, 'False');
    await nothingStoredFor('unreachable-1');
    const p = await env.waitFor('backuppolicies', 'unreachable', 'LastBackupSucceeded False', (o) => condition(o, 'LastBackupSucceeded')?.status === 'False');
    assert.equal(condition(p, 'LastBackupSucceeded')?.reason, 'DestinationUnreachable');
    assert.equal(p.status?.['consecutiveFailures'], 1);
    assert.equal(p.status?.['lastFailedBackup'], 'unreachable-1');
  });

  it('a failing pg_dump (exits 1 after its output): Failed DumpFailed, upload aborted, no manifest or object in either bucket', async () => {
    pgDumpControl(env.wrapperDir, { fail: true });
    try {
      const b = await backup('bad-dump-1', 'ok');
      assert.equal(b.status?.['phase'], 'Failed', describeObj(b));
      assert.equal(b.status?.['reason'], 'DumpFailed', describeObj(b));
      assert.match(b.status?.['message'], /pg_dump/);
      await nothingStoredFor('bad-dump-1');
    } finally {
      pgDumpControl(env.wrapperDir, {});
    }
    // The next one works again, and the policy's summary follows.
    const next = await backup('good-2', 'ok');
    assert.equal(next.status?.['phase'], 'Completed', describeObj(next));
    const p = await env.waitFor('backuppolicies', 'ok', 'LastBackupSucceeded True after good-2', (o) => o.status?.['lastSuccessfulBackup'] === 'good-2' && condition(o, 'LastBackupSucceeded')?.status === 'True');
    assert.equal(p.status?.['lastFailedBackup'], 'bad-dump-1');
    // Only completed backups have manifests.
    const manifests = (await env.keys('primary', BUCKET)).filter((k) => k.endsWith('.manifest.json')).map((k) => k.split('/').pop());
    assert.deepEqual(manifests.sort(), ['good-1.manifest.json', 'good-2.manifest.json', 'victim-1.manifest.json']);
  });

  it('a Restore into a non-empty database without overwrite: Failed TargetNotEmpty, the database untouched', async () => {
    await env.h.pg.query('CREATE DATABASE busy_target TEMPLATE template0');
    await env.h.pg.query('CREATE TABLE keep_me (id int PRIMARY KEY, note text); INSERT INTO keep_me VALUES (1, $$precious$$)', [], 'busy_target');
    const secretUri = env.h.pg.url(env.h.pg.superuser.user, env.h.pg.superuser.password, 'busy_target');
    await env.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'busy-db', namespace: env.h.namespace }, stringData: { uri: secretUri } });
    const r = await restore('into-busy', { backupRef: { name: 'good-1' }, target: { connectionSecret: 'busy-db' } });
    assert.equal(r.status?.['phase'], 'Failed', describeObj(r));
    assert.equal(r.status?.['reason'], 'TargetNotEmpty');
    assert.match(r.status?.['message'], /overwrite/);
    const tables = await env.h.pg.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'`, [], 'busy_target');
    assert.deepEqual(tables.rows.map((x) => x.t), ['keep_me']);
    const rows = await env.h.pg.query<{ note: string }>('SELECT note FROM keep_me', [], 'busy_target');
    assert.deepEqual(rows.rows, [{ note: 'precious' }]);
  });

  it("a Restore by a role that does not own the target database: Completed, with the schema's database setting it could not make in status.warnings and a Warning event", async () => {
    // The target is empty, owned by the superuser, with vector installed; the restoring role may create
    // in it but not ALTER DATABASE ... SET. It does not own vector either: pg_restore skips the backup's
    // CREATE and COMMENT ON EXTENSION vector.
    const password = 'not-owner-pw-3f9c1a';
    env.trackSecret(password);
    await env.h.pg.createRole('restorer_not_owner', password, { login: true });
    await env.h.pg.query('CREATE DATABASE r_not_owner TEMPLATE template0');
    await env.h.pg.query('GRANT CREATE ON DATABASE r_not_owner TO restorer_not_owner');
    await env.h.pg.query('CREATE EXTENSION vector; GRANT CREATE ON SCHEMA public TO restorer_not_owner', [], 'r_not_owner');
    assert.equal((await backup('settings-1', 'ok')).status?.['phase'], 'Completed');
    await env.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'not-owner-db', namespace: env.h.namespace }, stringData: { uri: env.h.pg.url('restorer_not_owner', password, 'r_not_owner') } });

    const r = await restore('not-owner', { backupRef: { name: 'settings-1' }, target: { connectionSecret: 'not-owner-db' } });
    assert.equal(r.status?.['phase'], 'Completed', describeObj(r));
    assert.equal(r.status?.['rowCountCheck']?.passed, true);
    assert.match(r.status?.['message'], /1 database setting\(s\) of the schema not re-applied \(status\.warnings\)/);
    const statement = `ALTER DATABASE "r_not_owner" SET ${HNSW_EF_SEARCH_SETTING.name} = ${HNSW_EF_SEARCH_SETTING.value}`;
    const warnings = r.status?.['warnings'] as string[] | undefined;
    assert.equal(warnings?.length, 1, describeObj(r));
    assert.ok(warnings[0]!.startsWith(`${HNSW_EF_SEARCH_SETTING.name} (${HNSW_EF_SEARCH_SETTING.migration}) is not set: role does not own database r_not_owner`), warnings[0]);
    assert.ok(warnings[0]!.endsWith(statement), warnings[0]);
    const events = await env.events('not-owner');
    assert.deepEqual(events.filter((e) => e.type === 'Warning').map((e) => [e.reason, e.message]), [['DatabaseSettingsNotApplied', warnings[0]]]);
    for (const text of [JSON.stringify(r.status), ...events.map((e) => e.message)]) assert.ok(!text.includes(password), 'no password in the status or events');

    const settings = await env.h.pg.query(`SELECT 1 FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = 'r_not_owner')`);
    assert.equal(settings.rowCount, 0, 'nothing was set');
    // The statement the warning gives works for the owner.
    await env.h.pg.query(statement);
  });

  it('no secret appears in logs, events or statuses', async () => {
    await env.assertNoSecretsLeaked();
  });
});
