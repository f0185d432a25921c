import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionFromSecretData, resolveConnection } from '../../../src/controllers/shared/database-connection.ts';

const spec = { secretName: 'db', uriKey: 'uri', sslMode: 'disable' as const };

test('a URI key wins; discrete keys are used otherwise', () => {
  assert.deepEqual(connectionFromSecretData({ uri: 'postgres://u:p@h:5/d' }, spec), { connectionString: 'postgres://u:p@h:5/d' });
  assert.deepEqual(connectionFromSecretData({ host: 'h', database: 'd', user: 'u', password: 'p' }, spec), {
    host: 'h', port: 5432, database: 'd', user: 'u', password: 'p',
  });
});

test('missing keys and a missing Secret are typed errors without secret values', async () => {
  assert.throws(() => connectionFromSecretData({ host: 'h', user: 'u', password: 'hunter2' }, spec), (error: any) => {
    assert.equal(error.reason, 'SecretKeyMissing');
    assert.match(error.message, /no key "database"/);
    assert.doesNotMatch(error.message, /hunter2/);
    return true;
  });
  assert.throws(() => connectionFromSecretData({ uri: 'mysql://x' }, spec), { reason: 'InvalidConnection' } as any);
  await assert.rejects(resolveConnection({ read: async () => undefined }, 'ns', spec), { reason: 'SecretNotFound' } as any);
});

test('sslMode require encrypts without verifying; a URI sslmode wins', () => {
  assert.deepEqual(connectionFromSecretData({ uri: 'postgres://h/d' }, { ...spec, sslMode: 'require' }).ssl, { rejectUnauthorized: false });
  assert.equal(connectionFromSecretData({ uri: 'postgres://h/d?sslmode=disable' }, { ...spec, sslMode: 'require' }).ssl, undefined);
});
