// The backup webhook's messages name only the URL's origin: fetch's own messages quote the whole URL
// (userinfo, path token, query token), so they are never passed on. Against a real local HTTP server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postWebhook } from '../../../src/controllers/backup/webhook.ts';
import { isOperatorError } from '../../../src/errors.ts';

const TOKEN = 'tok@:/?#%& en';
const ENC = encodeURIComponent(TOKEN);
const payload = { kind: 'BackupFinished', namespace: 'ns', policy: 'p', backup: 'b', phase: 'Completed' } as const;

async function failure(url: string): Promise<string> {
  try {
    await postWebhook(url, payload);
  } catch (error) {
    assert.ok(isOperatorError(error) && error.reason === 'WebhookFailed', String(error));
    return `${error.message} ${JSON.stringify(error.details)} ${String(error.cause ?? '')}`;
  }
  assert.fail(`the webhook to ${url} should have failed`);
}

function assertClean(text: string): void {
  for (const form of [TOKEN, ENC, 'tok@', 'secret-path-token', 'qtoken', 'userpw']) assert.ok(!text.includes(form), `leaked ${form}: ${text}`);
}

test('refused, unresolvable, malformed and non-2xx webhooks fail without quoting the URL', async () => {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    req.resume();
    res.statusCode = req.url?.includes('fail') ? 500 : 204;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  try {
    const refused = await failure(`http://user:${ENC}@127.0.0.1:${closedPort}/hooks/secret-path-token?token=${ENC}&k=qtoken`);
    assert.match(refused, new RegExp(`webhook request to http://127\\.0\\.0\\.1:${closedPort} failed: ECONNREFUSED`));
    assertClean(refused);
    const dns = await failure(`https://hooks.example.invalid/secret-path-token?token=${ENC}`);
    assert.match(dns, /hooks\.example\.invalid failed: (ENOTFOUND|EAI_AGAIN)/);
    assertClean(dns);
    const malformed = await failure(`http://[userpw/secret-path-token?token=${ENC}`);
    assert.match(malformed, /not a valid URL/);
    assertClean(malformed);
    const status = await failure(`http://127.0.0.1:${port}/fail/secret-path-token?token=${ENC}`);
    assert.match(status, new RegExp(`webhook http://127\\.0\\.0\\.1:${port} answered HTTP 500`));
    assertClean(status);
    // Credentials in the URL go out as basic auth (fetch refuses them in the URL).
    await postWebhook(`http://hook:${ENC}@127.0.0.1:${port}/ok?token=${ENC}`, payload);
    const last = seen.at(-1);
    assert.equal(last?.headers.authorization, `Basic ${Buffer.from(`hook:${TOKEN}`).toString('base64')}`);
    assert.equal(last?.url, `/ok?token=${ENC}`);
  } finally {
    server.close();
  }
});
