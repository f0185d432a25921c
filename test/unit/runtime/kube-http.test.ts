import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeApiError, KubeHttp, watchIdleGuardMs } from '../../../src/runtime/kube-http.ts';
import { apiErrorMessage, isConflict, KubeClient } from '../../../src/runtime/kube.ts';
import { kubeListWatchSource } from '../../../src/runtime/informer.ts';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

async function server(handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const s = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); }),
  };
}

const connection = (server: string) => ({ server, credentials: async () => ({ tls: {}, headers: { Authorization: 'Bearer t' } }) });

test('requests send JSON with the credentials and return the parsed body; errors carry code and Status', async () => {
  const s = await server((req, res) => {
    if (req.method === 'PUT') {
      res.writeHead(409, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', message: 'the object has been modified' }));
    } else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'ConfigMap', metadata: { creationTimestamp: '2026-01-01T00:00:00Z' } }));
  });
  try {
    const api = new KubeHttp(connection(`${s.url}/prefix/`));
    const got = await api.request('PATCH', '/api/v1/namespaces/n/configmaps/a', { query: { fieldManager: 'm' }, body: { data: { k: 'v' } }, contentType: 'application/merge-patch+json' });
    assert.deepEqual(got, { status: 200, body: { kind: 'ConfigMap', metadata: { creationTimestamp: '2026-01-01T00:00:00Z' } } });
    assert.equal(s.seen[0]?.url, '/prefix/api/v1/namespaces/n/configmaps/a?fieldManager=m');
    assert.equal(s.seen[0]?.headers['content-type'], 'application/merge-patch+json');
    assert.equal(s.seen[0]?.headers['authorization'], 'Bearer t');
    assert.equal(s.seen[0]?.body, '{"data":{"k":"v"}}');
    const error = await api.request('PUT', '/api/v1/namespaces/n/configmaps/a', { body: {} }).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof KubeApiError);
    assert.ok(isConflict(error));
    assert.equal(apiErrorMessage(error), 'the object has been modified');
  } finally {
    await s.close();
  }
});

test('a watch delivers one event per line and ends once; a refused watch ends with its status code', async () => {
  const s = await server((req, res) => {
    if (req.url?.includes('forbidden')) {
      res.writeHead(403).end('{}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } })}\n{"type":"MODIFIED","obj`);
    setTimeout(() => res.end(`ect":{"metadata":{"name":"a"}}}\nnot json\n${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } })}\n`), 20);
  });
  try {
    const api = new KubeHttp(connection(s.url));
    const events: [string, unknown][] = [];
    const done = await new Promise<unknown[]>((resolve) => {
      const ends: unknown[] = [];
      void api.watch('/api/v1/configmaps', { resourceVersion: '1', allowWatchBookmarks: true, labelSelector: undefined }, (type, object) => events.push([type, object]), (error) => {
        ends.push(error);
        setTimeout(() => resolve(ends), 50);
      });
    });
    assert.deepEqual(done, [null]);
    assert.deepEqual(events.map(([type]) => type), ['ADDED', 'MODIFIED', 'BOOKMARK']);
    assert.equal(s.seen[0]?.url, '/api/v1/configmaps?watch=true&resourceVersion=1&allowWatchBookmarks=true');
    const refused = await new Promise<unknown>((resolve) => void api.watch('/forbidden', {}, () => {}, resolve));
    assert.equal((refused as { statusCode?: number }).statusCode, 403);
  } finally {
    await s.close();
  }
});

test('a silent watch ends with a TimeoutError after the idle timeout', async () => {
  const s = await server((_req, res) => res.writeHead(200).flushHeaders());
  try {
    const api = new KubeHttp(connection(s.url), { watchIdleTimeoutMs: 100 });
    const error = await new Promise<unknown>((resolve) => void api.watch('/api/v1/pods', {}, () => {}, resolve));
    assert.equal((error as Error).name, 'TimeoutError');
  } finally {
    await s.close();
  }
});

test('the informer\'s watches ask the server to end them (timeoutSeconds, 5-10 min as client-go) and to send bookmarks', async () => {
  const s = await server((_req, res) => res.writeHead(200).end());
  try {
    const type = { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };
    const urls: string[] = [];
    for (const random of [0, 0.5, 0.999]) {
      const source = kubeListWatchSource(new KubeClient(connection(s.url)), { type, namespace: 'ns', labelSelector: 'a=b', random: () => random });
      await new Promise<unknown>((resolve) => void source.watch('7', () => {}, resolve));
      urls.push(s.seen.at(-1)?.url ?? '');
    }
    assert.deepEqual(urls, [300, 450, 599].map((t) => `/api/v1/namespaces/ns/configmaps?watch=true&labelSelector=a%3Db&resourceVersion=7&allowWatchBookmarks=true&timeoutSeconds=${t}`));
  } finally {
    await s.close();
  }
});

test('a quiet watch is left for the server to end: the idle guard outlasts its timeoutSeconds', () => {
  assert.equal(watchIdleGuardMs({ timeoutSeconds: 450 }), 480_000);
  assert.equal(watchIdleGuardMs({ timeoutSeconds: '300' }), 330_000);
  assert.equal(watchIdleGuardMs({ resourceVersion: '7' }), 600_000, 'no timeoutSeconds: 10 minutes');
  assert.ok(watchIdleGuardMs({}) > 30_000);
});
