import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { shareConnections } from '../../../src/operator/kube-connections.ts';

/** A kubeconfig like the in-cluster one: a CA file and a bearer token. */
function config(caFile: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caFile, skipTLSVerify: false }],
    users: [{ name: 'u', token: 'token-1' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

async function request(kc: KubeConfig): Promise<{ dispatcher: unknown; authorization: string | undefined }> {
  const ctx = new RequestContext('https://127.0.0.1:6443/api/v1/namespaces', HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  return { dispatcher: ctx.getDispatcher(), authorization: ctx.getHeaders()['Authorization'] };
}

test('requests share one connection pool and read the CA file once a minute, while tokens stay per request', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kube-connections-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const caFile = join(dir, 'ca.crt');
  writeFileSync(caFile, 'CA one');

  // What client-node does by itself: a new dispatcher (pool) for every request.
  const plain = config(caFile);
  assert.notEqual((await request(plain)).dispatcher, (await request(plain)).dispatcher);

  const clock = { now: 0 };
  const kc = shareConnections(config(caFile), { now: () => clock.now, tlsTtlMs: 60_000 });
  const first = await request(kc);
  assert.ok(first.dispatcher);
  assert.equal(first.authorization, 'Bearer token-1');
  assert.equal((await request(kc)).dispatcher, first.dispatcher);

  // A rotated token is used at once (headers are not cached).
  (kc.getCurrentUser() as { token?: string }).token = 'token-2';
  const rotated = await request(kc);
  assert.equal(rotated.authorization, 'Bearer token-2');
  assert.equal(rotated.dispatcher, first.dispatcher);

  // A rotated CA is picked up after the TTL (and gets its own pool), not on every request before it.
  writeFileSync(caFile, 'CA two');
  clock.now = 59_999;
  assert.equal((await request(kc)).dispatcher, first.dispatcher);
  clock.now = 60_000;
  const renewed = await request(kc);
  assert.notEqual(renewed.dispatcher, first.dispatcher);
  assert.equal((await request(kc)).dispatcher, renewed.dispatcher);
  // Same CA contents again later: back to the first pool rather than a third one.
  writeFileSync(caFile, 'CA one');
  clock.now = 120_000;
  assert.equal((await request(kc)).dispatcher, first.dispatcher);
  assert.equal(shareConnections(kc), kc, 'idempotent');
});
