// CLI commands that fail to connect describe the database as user@host:port/db: no password from the
// URI's userinfo or its `?password=`, in human or JSON output (a closed local port: nothing listens).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { PassThrough } from 'node:stream';
import { runCli } from '../../../src/cli/main.ts';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function cli(argv: string[]): Promise<{ code: number; text: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let text = '';
  stdout.on('data', (c) => (text += String(c)));
  stderr.on('data', (c) => (text += String(c)));
  const code = await runCli(argv, { stdout, stderr, env: {}, repoRoot: new URL('../../../', import.meta.url).pathname });
  return { code, text };
}

test('migrate status with a password in the userinfo and the query prints neither', async () => {
  const port = await closedPort();
  const user = 'c4nUser@:/?#%& 1';
  const query = 'c4nQuery@:/?#%& 2';
  const url = `postgres://u:${encodeURIComponent(user)}@127.0.0.1:${port}/db?password=${encodeURIComponent(query)}`;
  for (const argv of [['migrate', 'status', '--database-url', url], ['migrate', 'status', '--json', '--database-url', url], ['migrate', 'status', '--database-url', `postgres://u:p@127.0.0.1:${port}/db?password=x`]]) {
    const { code, text } = await cli(argv);
    assert.notEqual(code, 0, text);
    for (const secret of [user, query, encodeURIComponent(user), encodeURIComponent(query), 'c4nUser', 'c4nQuery', 'password=x', ':p@']) {
      assert.ok(!text.includes(secret), `"${secret}" printed: ${text}`);
    }
    assert.match(text, /cannot connect to u@127\.0\.0\.1:\d+\/db/, text);
  }
});
