import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeConnection } from '../../../src/runtime/kube-config.ts';

async function dir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'kube-config-'));
}

const kubeconfig = (o: { server: string; ca?: string; user: Record<string, unknown>; namespace?: string; current?: string; name?: string }): string =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server: o.server, ...(o.ca ? { 'certificate-authority': o.ca } : {}) } }],
    users: [{ name: 'u', user: o.user }],
    contexts: [{ name: o.name ?? 'ctx', context: { cluster: 'c', user: 'u', ...(o.namespace ? { namespace: o.namespace } : {}) } }],
    ...(o.current === undefined ? { 'current-context': o.name ?? 'ctx' } : o.current ? { 'current-context': o.current } : {}),
  });

test('a kubeconfig file: server, namespace, CA relative to the file, bearer token', async () => {
  const d = await dir();
  await writeFile(join(d, 'ca.pem'), 'CA-PEM');
  await writeFile(join(d, 'config'), kubeconfig({ server: 'https://127.0.0.1:6443/', ca: 'ca.pem', user: { token: 'secret-token' }, namespace: 'apps' }));
  const c = await loadKubeConnection({ env: {}, kubeconfig: join(d, 'config') });
  assert.equal(c.server, 'https://127.0.0.1:6443/');
  assert.equal(c.namespace, 'apps');
  const creds = await c.credentials();
  assert.equal(creds.tls.ca?.toString(), 'CA-PEM');
  assert.equal(creds.tls.rejectUnauthorized, true);
  assert.deepEqual(creds.headers, { Authorization: 'Bearer secret-token' });
});

test('client certificate data and basic auth; insecure-skip-tls-verify and impersonation', async () => {
  const d = await dir();
  const file = join(d, 'config');
  const cert = Buffer.from('CERT').toString('base64');
  const key = Buffer.from('KEY').toString('base64');
  await writeFile(file, JSON.stringify({
    clusters: [{ name: 'c', cluster: { server: 'https://h:1', 'insecure-skip-tls-verify': true, 'tls-server-name': 'api.local' } }],
    users: [{ name: 'u', user: { 'client-certificate-data': cert, 'client-key-data': key, username: 'me', password: 'pw', as: 'someone' } }],
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'x',
  }));
  const creds = await (await loadKubeConnection({ env: { KUBECONFIG: file } })).credentials();
  assert.equal(creds.tls.cert?.toString(), 'CERT');
  assert.equal(creds.tls.key?.toString(), 'KEY');
  assert.equal(creds.tls.rejectUnauthorized, false);
  assert.equal(creds.tls.servername, 'api.local');
  assert.equal(creds.headers['Authorization'], `Basic ${Buffer.from('me:pw').toString('base64')}`);
  assert.equal(creds.headers['Impersonate-User'], 'someone');
});

test('KUBECONFIG files merge: the first current-context and the first entry of a name win', async () => {
  const d = await dir();
  await writeFile(join(d, 'a'), JSON.stringify({ 'current-context': 'second', contexts: [], clusters: [], users: [] }));
  await writeFile(join(d, 'b'), kubeconfig({ server: 'https://b:1', user: { token: 'b' }, name: 'second' }));
  await writeFile(join(d, 'c'), kubeconfig({ server: 'https://c:1', user: { token: 'c' }, name: 'second' }));
  const c = await loadKubeConnection({ env: { KUBECONFIG: `${join(d, 'a')}:${join(d, 'b')}:${join(d, 'c')}` } });
  assert.equal(c.server, 'https://b:1');
  assert.equal((await c.credentials()).headers['Authorization'], 'Bearer b');
});

test('an explicit file wins over KUBECONFIG; a missing current-context is a clear error', async () => {
  const d = await dir();
  await writeFile(join(d, 'none'), kubeconfig({ server: 'https://a:1', user: {}, current: '' }));
  await writeFile(join(d, 'other'), kubeconfig({ server: 'https://b:1', user: {}, current: 'nope' }));
  await assert.rejects(loadKubeConnection({ env: { KUBECONFIG: join(d, 'other') }, kubeconfig: join(d, 'none') }), /none: no current-context/);
  await assert.rejects(loadKubeConnection({ env: { KUBECONFIG: join(d, 'other') } }), /current-context "nope" is not defined/);
});

test('in-cluster: the service account token is re-read after the refresh period (rotation)', async () => {
  const d = await dir();
  const sa = join(d, 'sa');
  await mkdir(sa);
  await writeFile(join(sa, 'token'), 'token-1\n');
  await writeFile(join(sa, 'ca.crt'), 'CLUSTER-CA');
  await writeFile(join(sa, 'namespace'), 'lokdarpan-system');
  let now = 0;
  const c = await loadKubeConnection({ env: { HOME: d, KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: sa, refreshMs: 60_000, now: () => now });
  assert.equal(c.origin, 'in-cluster');
  assert.equal(c.server, 'https://[fd00::1]:443');
  assert.equal(c.namespace, 'lokdarpan-system');
  const first = await c.credentials();
  assert.equal(first.headers['Authorization'], 'Bearer token-1');
  assert.equal(first.tls.ca?.toString(), 'CLUSTER-CA');
  await writeFile(join(sa, 'token'), 'token-2\n');
  now = 59_000;
  assert.equal((await c.credentials()).headers['Authorization'], 'Bearer token-1');
  now = 60_000;
  const rotated = await c.credentials();
  assert.equal(rotated.headers['Authorization'], 'Bearer token-2');
  now = 130_000;
  assert.equal(await c.credentials(), rotated, 'unchanged material keeps its object (and the connection pool)');
});

test('in-cluster without the service env is a clear error; nothing at all is localhost:8080', async () => {
  const d = await dir();
  await writeFile(join(d, 'token'), 't');
  await assert.rejects(loadKubeConnection({ env: {}, serviceAccountDir: d }), /KUBERNETES_SERVICE_HOST/);
  const fallback = await loadKubeConnection({ env: {}, serviceAccountDir: join(d, 'absent') });
  assert.equal(fallback.server, 'http://localhost:8080');
});

test('an exec user is handed to client-node (the thin loader does not run plugins)', async () => {
  const d = await dir();
  await writeFile(join(d, 'config'), kubeconfig({ server: 'https://e:1', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'true' } }, namespace: 'n' }));
  const c = await loadKubeConnection({ env: {}, kubeconfig: join(d, 'config') });
  assert.equal(c.server, 'https://e:1');
  assert.equal(c.namespace, 'n');
});

test('a kubeconfig that is not valid YAML is a clear error that names where, never the line (it may hold a token)', async () => {
  const d = await dir();
  const canary = 'tok-@:/?#%&-canary';
  await writeFile(join(d, 'config'), `apiVersion: v1\nusers:\n- name: u\n  user:\n    token: "${canary}\n   : [unclosed\n`);
  const error = await loadKubeConnection({ env: {}, kubeconfig: join(d, 'config') }).then(() => undefined, (e: unknown) => e as Error);
  assert.ok(error instanceof Error, 'rejected');
  assert.match(error.message, /config is not valid YAML/);
  assert.doesNotMatch(`${error.message}\n${error.stack ?? ''}`, /canary/);
});
