import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { HealthServer } from '../../../src/observability/health.ts';
import { createOperatorMetrics } from '../../../src/observability/metrics.ts';

async function get(url: string): Promise<{ status: number; body: string; type: string | undefined }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') ?? undefined };
}

test('serves /metrics, /healthz and /readyz with named checks; close is graceful', async () => {
  const metrics = createOperatorMetrics(undefined, { defaultMetrics: true });
  metrics.reconcileTotal.inc({ controller: 'demo', result: 'success' });
  const server = new HealthServer({ port: 0, host: '127.0.0.1', registry: metrics.registry, checkTimeoutMs: 200 });
  let synced = false;
  server.addHealthCheck('ping', () => true);
  server.addReadyCheck('informers-synced', () => synced);
  server.addReadyCheck('leader-election', async () => true);
  const { url } = await server.listen();

  const m = await get(`${url}/metrics`);
  assert.equal(m.status, 200);
  assert.match(m.type ?? '', /text\/plain/);
  assert.match(m.body, /^controller_runtime_reconcile_total\{controller="demo",result="success"\} 1$/m);
  assert.match(m.body, /^process_resident_memory_bytes /m);

  assert.deepEqual(await get(`${url}/healthz`).then((r) => [r.status, r.body]), [200, 'ok\n']);
  const notReady = await get(`${url}/readyz`);
  assert.equal(notReady.status, 503);
  assert.match(notReady.body, /\[-\]informers-synced failed/);
  assert.match(notReady.body, /\[\+\]leader-election ok/);
  synced = true;
  assert.equal((await get(`${url}/readyz`)).status, 200);
  assert.match((await get(`${url}/readyz?verbose`)).body, /\[\+\]informers-synced ok\n\[\+\]leader-election ok\ncheck ok/);

  server.addReadyCheck('throws', () => {
    throw new Error('x');
  });
  server.addReadyCheck('slow', () => new Promise<boolean>(() => {}));
  const bad = await get(`${url}/readyz`);
  assert.equal(bad.status, 503);
  assert.match(bad.body, /\[-\]throws failed\n\[-\]slow failed/);
  assert.equal((await get(`${url}/nope`)).status, 404);

  // A keep-alive connection does not hold close() up.
  await new Promise<void>((resolve) => {
    const req = request(`${url}/healthz`, { agent: new Agent({ keepAlive: true }) }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.end();
  });
  const started = Date.now();
  // A grace far longer than closing takes even on a busy machine: close() must not wait for it.
  await server.close(10_000);
  assert.ok(Date.now() - started < 5_000, 'idle keep-alive sockets are closed at once');
  await assert.rejects(fetch(`${url}/healthz`));
});
