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

test('descriptions come from the parsed parts and never carry the password or a query parameter', () => {
  assert.equal(describeConnection({ connectionString: 'postgres://app:s3cret@db:5432/x' }), 'app@db:5432/x');
  const canary = 'p@:/?#%& w0rd';
  const encoded = encodeURIComponent(canary);
  const cases = [
    [`postgres://lok:${encoded}@127.0.0.1:1/lok?password=${encoded}&sslmode=disable`, 'lok@127.0.0.1:1/lok'],
    [`postgres://lok@127.0.0.1/lok?password=${encoded}`, 'lok@127.0.0.1:5432/lok'],
    [`postgres://lok:pa@ss@db.invalid:6543/lok?options=-c%20x%3D${encoded}`, 'lok@db.invalid:6543/lok'],
    ['postgres://u:p@h:1/db?password=x', 'u@h:1/db'],
  ] as const;
  for (const [url, expected] of cases) assert.equal(describeConnection({ connectionString: url }), expected);
  // Text pg cannot parse is not described at all: any piece of it could be the password.
  assert.equal(describeConnection({ connectionString: `postgres://u:${canary}@h/db` }), '(an unparseable postgres:// URI)');
  assert.equal(describeConnection({ connectionString: 'postgres://u:pw@h/db', host: 'other', port: 7 }), 'u@other:7/db');
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
