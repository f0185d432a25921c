// The PostgreSQL adapter's settings resolution (URL vs PG* variables) and its password-free description.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionSettingsFrom, describeConnection } from '../../../src/adapters/postgres/connection.ts';
import { withTransaction, type Queryable } from '../../../src/adapters/postgres/session.ts';

test('--database-url wins over DATABASE_URL, which wins over PG* variables', () => {
  const env = { DATABASE_URL: 'postgres://a@h/db1', PGHOST: 'ignored' };
  assert.deepEqual(connectionSettingsFrom(env, 'postgres://b@h/db2'), { connectionString: 'postgres://b@h/db2' });
  assert.deepEqual(connectionSettingsFrom(env), { connectionString: 'postgres://a@h/db1' });
});

test('PG* variables map to discrete settings', () => {
  const settings = connectionSettingsFrom({ PGHOST: '/run/pg', PGPORT: '6432', PGUSER: 'app', PGPASSWORD: 's3cret', PGDATABASE: 'lokdarpan', PGSSLMODE: 'require' });
  assert.deepEqual(settings, { host: '/run/pg', port: 6432, user: 'app', password: 's3cret', database: 'lokdarpan', ssl: true });
  assert.equal(describeConnection(settings), 'app@/run/pg:6432/lokdarpan');
  assert.throws(() => connectionSettingsFrom({ PGPORT: 'x' }), /PGPORT "x" is not a TCP port/);
});

test('descriptions never carry the password', () => {
  assert.equal(describeConnection({ connectionString: 'postgres://app:s3cret@db:5432/x' }), 'postgres://app:[redacted]@db:5432/x');
});

test('withTransaction commits on success and rolls back (rethrowing) on failure', async () => {
  const log: string[] = [];
  const q: Queryable = {
    async query(text: string) {
      log.push(text);
      if (text === 'FAIL') throw new Error('boom');
      return { rows: [], rowCount: 0, command: '', oid: 0, fields: [] };
    },
  };
  assert.equal(await withTransaction(q, async (c) => (await c.query('SELECT 1'), 7)), 7);
  await assert.rejects(withTransaction(q, (c) => c.query('FAIL')), /boom/);
  assert.deepEqual(log, ['BEGIN', 'SELECT 1', 'COMMIT', 'BEGIN', 'FAIL', 'ROLLBACK']);
});
