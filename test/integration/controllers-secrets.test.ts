// Secrets never leave their Secret, and identity files work as people make them: the operator (a child
// process under its ServiceAccount, real apiserver, PostgreSQL, SeaweedFS) is driven through its
// failure paths with canary secrets holding `@ : / ? # % &` and spaces (passwords in the URI's userinfo
// AND in `?password=`, discrete keys, S3 secret key and session token, a webhook URL with a token in
// its userinfo, path and query, a malformed age identity). Then every log line, event, status of every
// kind and the /metrics output are searched for each canary, its URL-encoded forms and its random
// pieces. A Restore then decrypts with an identity file written by the real age-keygen, put in a Secret
// with `kubectl create secret generic --from-file`. And a Restore into a new database as a CREATEDB
// role is refused by the preflight (nothing created), then made with `target.adminConnectionSecret`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ageKeygenBinary, freePort } from '../env/index.ts';
import { condition, describe as describeObj, eventually, startControllersEnv, type ControllersEnv, type Obj } from './controllers-harness.ts';
import { SUITE_TIMEOUT_MS } from '../wait.ts';

const run = promisify(execFile);
const BUCKET = 'secrets-backups';

/** A canary: two random pieces around every character URLs and messages treat specially. */
function canary(): { value: string; pieces: string[] } {
  const a = randomBytes(6).toString('hex');
  const b = randomBytes(6).toString('hex');
  return { value: `${a}@:/?#%& ${b}`, pieces: [a, b] };
}

describe('no secret leaves its Secret; identity files from age-keygen decrypt', { timeout: SUITE_TIMEOUT_MS }, () => {
  let env: ControllersEnv;
  let dir = '';
  const canaries: string[] = [];
  const fresh = (): string => {
    const c = canary();
    canaries.push(c.value);
    for (const form of [c.value, encodeURIComponent(c.value), encodeURI(c.value), c.value.replace(/ /g, '+'), ...c.pieces]) env.trackSecret(form);
    return c.value;
  };
  const enc = encodeURIComponent;
  const ns = (): string => env.h.namespace;
  const secret = (name: string, stringData: Record<string, string>): Promise<void> =>
    env.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns() }, type: 'Opaque', stringData });
  const database = (name: string, spec: Record<string, unknown>): Promise<void> =>
    env.apply({ apiVersion: 'lokdarpan.io/v1alpha1', kind: 'LokdarpanDatabase', metadata: { name, namespace: ns() }, spec });
  const notReady = (name: string, message: RegExp): Promise<Obj> =>
    env.waitFor('lokdarpandatabases', name, `Ready False matching ${message}`, (o) => condition(o, 'Ready')?.status === 'False' && message.test(condition(o, 'Ready')?.message ?? ''));
  let db: { name: string };
  let closedPort = 0;

  before(async () => {
    env = await startControllersEnv({ buckets: { primary: [BUCKET] } });
    dir = await mkdtemp(join(tmpdir(), 'lokdarpan-secrets-'));
    closedPort = await freePort();
    await env.startOperator();
    db = await env.readyDatabase('secretsdb');
  });

  after(async () => {
    await env?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('database connection failures describe user@host:port/db and nothing else', async () => {
    const { host, port, superuser } = env.h.pg;
    const [p1, q1, p2, q2, p3, q3, p4] = [fresh(), fresh(), fresh(), fresh(), fresh(), fresh(), fresh()];
    await secret('unreachable-db', { uri: `postgres://lok:${enc(p1)}@127.0.0.1:${closedPort}/lok?password=${enc(q1)}&application_name=x` });
    await secret('wrongpw-db', { uri: `postgres://${superuser.user}:${enc(p2)}@${host}:${port}/postgres?password=${enc(q2)}` });
    await secret('dns-db', { uri: `postgres://lok:${enc(p3)}@canary-db.invalid:5432/lok?password=${enc(q3)}` });
    // Discrete keys, TLS required by the spec against a server without TLS.
    await secret('tls-db', { host, port: String(port), database: 'postgres', user: superuser.user, password: p4 });
    await database('unreachable', { connection: { secretName: 'unreachable-db' } });
    await database('wrongpw', { connection: { secretName: 'wrongpw-db' } });
    await database('dnsfail', { connection: { secretName: 'dns-db' } });
    await database('tlsfail', { connection: { secretName: 'tls-db', sslMode: 'require' } });

    const unreachable = await notReady('unreachable', new RegExp(`lok@127\\.0\\.0\\.1:${closedPort}/lok`));
    assert.match(condition(unreachable, 'Ready')?.message ?? '', /ECONNREFUSED/, describeObj(unreachable));
    const wrong = await notReady('wrongpw', /password authentication failed/);
    assert.match(condition(wrong, 'Ready')?.message ?? '', new RegExp(`${superuser.user}@${host.replace(/\./g, '\\.')}:${port}/postgres`));
    await notReady('dnsfail', /lok@canary-db\.invalid:5432\/lok.*(ENOTFOUND|EAI_AGAIN)/);
    await notReady('tlsfail', /does not support SSL/);
  });

  it('S3 denied (wrong secret key, a session token) and a refused webhook with tokens: clear reasons, no key, no token', async () => {
    const [s3Secret, s3Token, hookPassword, hookPathToken, hookQueryToken] = [fresh(), fresh(), fresh(), fresh(), fresh()];
    await secret('s3-denied', { accessKeyId: env.s3.primary.accessKeyId, secretAccessKey: s3Secret, sessionToken: s3Token });
    await secret('hook', { url: `http://hook:${enc(hookPassword)}@127.0.0.1:${closedPort}/hooks/${enc(hookPathToken)}?token=${enc(hookQueryToken)}` });
    await env.apply({
      apiVersion: 'lokdarpan.io/v1alpha1',
      kind: 'BackupPolicy',
      metadata: { name: 'denied', namespace: ns() },
      spec: {
        databaseRef: { name: db.name },
        schedule: '0 0 1 1 *',
        destination: { ...env.destination('primary', 'primary', BUCKET), credentialsSecret: 's3-denied' },
        recipients: [env.key.recipient],
        retention: { keepLast: 5 },
        webhook: { urlSecret: { name: 'hook', key: 'url' } },
      },
    });
    await env.apply({ apiVersion: 'lokdarpan.io/v1alpha1', kind: 'Backup', metadata: { name: 'denied-1', namespace: ns() }, spec: { policyRef: { name: 'denied' } } });
    const backup = await env.finished('backups', 'denied-1');
    assert.equal(backup.status?.['phase'], 'Failed', describeObj(backup));
    assert.match(String(backup.status?.['message']), /primary|secrets-backups/, describeObj(backup));
    const hook = await eventually('a WebhookFailed event', async () => (await env.events('denied-1')).find((e) => e.reason === 'WebhookFailed'));
    assert.match(hook?.message ?? '', new RegExp(`webhook request to http://127\\.0\\.0\\.1:${closedPort} failed: ECONNREFUSED`));
  });

  it('a malformed age identity: InvalidKey naming the line, never the key', async () => {
    const broken = `AGE-SECRET-KEY-1${randomBytes(29).toString('hex').toUpperCase().slice(0, 58)}`;
    env.trackSecret(broken);
    env.trackSecret(broken.slice(16, 40));
    await secret('bad-identity', { identity: `# created: today\r\n${broken}\r\n` });
    await env.apply({
      apiVersion: 'lokdarpan.io/v1alpha1',
      kind: 'Restore',
      metadata: { name: 'bad-identity', namespace: ns() },
      spec: {
        source: { destination: env.destination('primary', 'primary', BUCKET), manifestKey: 'lokdarpan/none.manifest.json' },
        target: { connectionSecret: env.superuserSecret, databaseName: 'r_bad_identity' },
        identitySecret: { name: 'bad-identity', key: 'identity' },
      },
    });
    const restore = await env.finished('restores', 'bad-identity');
    assert.equal(restore.status?.['phase'], 'Failed', describeObj(restore));
    assert.equal(restore.status?.['reason'], 'InvalidKey', describeObj(restore));
    assert.match(String(restore.status?.['message']), /age identity file line 2/);
  });

  it('a Restore decrypts with an age-keygen identity file (comments, CRLF, two keys) from kubectl create secret --from-file', async () => {
    const other = join(dir, 'other.key');
    const mine = join(dir, 'mine.key');
    await run(ageKeygenBinary(), ['-o', other]);
    await run(ageKeygenBinary(), ['-o', mine]);
    const otherText = await readFile(other, 'utf8');
    const mineText = await readFile(mine, 'utf8');
    const recipient = /# public key: (age1[0-9a-z]+)/.exec(mineText)?.[1];
    assert.ok(recipient, mineText.replace(/AGE-SECRET-KEY-1\S+/, '(identity)'));
    for (const text of [otherText, mineText]) env.trackSecret(/AGE-SECRET-KEY-1[0-9A-Z]+/.exec(text)![0]);
    const file = join(dir, 'key.txt');
    await writeFile(file, `${otherText}\n${mineText}`.replace(/\n/g, '\r\n'));
    await env.h.kubectlOk(['create', 'secret', 'generic', 'id', '-n', ns(), '--from-file=identity=' + file]);

    await env.apply({
      apiVersion: 'lokdarpan.io/v1alpha1',
      kind: 'BackupPolicy',
      metadata: { name: 'keyfile', namespace: ns() },
      spec: { databaseRef: { name: db.name }, schedule: '0 0 1 1 *', destination: env.destination('primary', 'primary', BUCKET), recipients: [recipient], retention: { keepLast: 5 } },
    });
    await env.apply({ apiVersion: 'lokdarpan.io/v1alpha1', kind: 'Backup', metadata: { name: 'keyfile-1', namespace: ns() }, spec: { policyRef: { name: 'keyfile' } } });
    const backup = await env.finished('backups', 'keyfile-1');
    assert.equal(backup.status?.['phase'], 'Completed', describeObj(backup));

    await env.apply({
      apiVersion: 'lokdarpan.io/v1alpha1',
      kind: 'Restore',
      metadata: { name: 'from-keyfile', namespace: ns() },
      spec: { backupRef: { name: 'keyfile-1' }, target: { connectionSecret: env.superuserSecret, databaseName: 'r_keyfile' }, identitySecret: { name: 'id', key: 'identity' } },
    });
    const restore = await env.finished('restores', 'from-keyfile');
    assert.equal(restore.status?.['phase'], 'Completed', describeObj(restore));
    assert.equal(restore.status?.['rowCountCheck']?.['passed'], true);

    // A restore target whose password is wrong (in the userinfo and the query): a clear reason, no password.
    const [p, q] = [fresh(), fresh()];
    const { host, port, superuser } = env.h.pg;
    await secret('bad-target', { uri: `postgres://${superuser.user}:${enc(p)}@${host}:${port}/postgres?password=${enc(q)}` });
    await env.apply({
      apiVersion: 'lokdarpan.io/v1alpha1',
      kind: 'Restore',
      metadata: { name: 'bad-target', namespace: ns() },
      spec: { backupRef: { name: 'keyfile-1' }, target: { connectionSecret: 'bad-target', databaseName: 'r_bad_target' }, identitySecret: { name: 'id', key: 'identity' } },
    });
    const failed = await env.waitFor('restores', 'bad-target', 'a password failure', (o) => /password authentication failed/.test(condition(o, 'Ready')?.message ?? ''));
    assert.match(condition(failed, 'Ready')?.message ?? '', new RegExp(`${superuser.user}@`));
  });

  it('a Restore into a new database as a CREATEDB role: preflight refusal first, then an admin connection Secret makes it work', async () => {
    const password = fresh();
    await env.h.pg.createRole('restorer', password, { login: true, createdb: true });
    await secret('restorer-db', { uri: env.h.pg.url('restorer', password, 'postgres') });
    const spec = (databaseName: string, admin?: string): Record<string, unknown> => ({
      backupRef: { name: 'keyfile-1' },
      target: { connectionSecret: 'restorer-db', databaseName, ...(admin ? { adminConnectionSecret: admin } : {}) },
      identitySecret: { name: 'id', key: 'identity' },
    });
    const exists = async (name: string): Promise<boolean> => (await env.h.pg.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;

    await env.apply({ apiVersion: 'lokdarpan.io/v1alpha1', kind: 'Restore', metadata: { name: 'as-restorer', namespace: ns() }, spec: spec('r_restorer') });
    const refused = await env.finished('restores', 'as-restorer');
    assert.equal(refused.status?.['phase'], 'Failed', describeObj(refused));
    assert.equal(refused.status?.['reason'], 'RestorePreflightFailed', describeObj(refused));
    assert.match(String(refused.status?.['message']), /extension vector is not in template1 and only a superuser may create it/);
    assert.equal(await exists('r_restorer'), false, 'nothing was created');
    assert.ok((await env.events('as-restorer')).some((e) => e.type === 'Warning' && e.reason === 'RestorePreflightFailed'));

    await env.apply({ apiVersion: 'lokdarpan.io/v1alpha1', kind: 'Restore', metadata: { name: 'with-admin', namespace: ns() }, spec: spec('r_with_admin', env.superuserSecret) });
    const done = await env.finished('restores', 'with-admin');
    assert.equal(done.status?.['phase'], 'Completed', describeObj(done));
    assert.equal(done.status?.['rowCountCheck']?.['passed'], true);
    const owner = await env.h.pg.query<{ owner: string }>("SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = 'r_with_admin'");
    assert.equal(owner.rows[0]?.owner, 'restorer');
  });

  it('no canary in any log, event, status or /metrics output', async () => {
    assert.ok(canaries.length >= 10);
    await env.assertNoSecretsLeaked();
    for (const operator of env.h.operators) {
      const metrics = await operator.http('/metrics');
      assert.equal(metrics.status, 200);
      for (const value of canaries) {
        for (const form of [value, encodeURIComponent(value), encodeURI(value), value.slice(0, 12), value.slice(-12)]) {
          assert.ok(!metrics.body.includes(form), `a canary appears in /metrics of ${operator.name}`);
        }
      }
    }
  });
});
