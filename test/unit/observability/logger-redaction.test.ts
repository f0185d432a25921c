// pino redaction: every field name that carries a secret is replaced, at the top level and nested.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/observability/logger.ts';

test('secret-bearing fields are redacted wherever they appear', () => {
  let out = '';
  const destination = new Writable({ write(chunk, _enc, cb) { out += String(chunk); cb(); } });
  const logger = createLogger({ destination });
  const s = (n: number): string => `SECRET-${n}-@:/?#%& x`;
  logger.info({
    password: s(1), connectionString: s(2), databaseUrl: s(3), uri: s(4), url: s(5), webhookUrl: s(6), dsn: s(7), token: s(8),
    identity: s(9), identities: [s(10)], sessionToken: s(11), secretAccessKey: s(12), accessKeyId: s(13), authorization: s(14),
    credentials: { accessKeyId: s(15), secretAccessKey: s(16), sessionToken: s(17) },
    target: { password: s(18), connectionString: s(19), url: s(20) },
    request: { headers: { authorization: s(21) } },
    nested: { deeper: { password: s(22), sessionToken: s(23) } },
  }, 'message');
  assert.match(out, /"msg":"message"/);
  assert.ok(!out.includes('SECRET-'), out);
});
