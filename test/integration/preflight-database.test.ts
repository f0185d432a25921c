// The database checks of the preflight on a real PostgreSQL, as a non-superuser owner role: the first
// table, sequence or schema pg_dump could not read is named (missing SELECT, missing USAGE, row-level
// security), extension objects and the role's own tables are fine, and a retention rule's table needs
// the privilege its action uses.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { pgBinDir, startPostgres, type PostgresServer, type TestDatabase } from '../env/index.ts';
import { checkDumpAccess, checkRulePrivileges } from '../../src/engines/preflight/database.ts';
import { isOperatorError } from '../../src/errors.ts';
import { SUITE_TIMEOUT_MS } from '../wait.ts';

describe('preflight database checks (real PostgreSQL)', { timeout: SUITE_TIMEOUT_MS }, () => {
  let server: PostgresServer;
  let db: TestDatabase;
  let app: pg.Client;
  const admin = (sql: string): Promise<unknown> => server.query(sql, [], db.name);
  /** Whether a real pg_dump as the role succeeds: the check must agree with it. */
  const pgDumpWorks = (): boolean => {
    const r = spawnSync(join(pgBinDir(server.major), 'pg_dump'), ['--format=custom', '--no-password'], {
      env: { ...process.env, ...server.cliEnv(db.name, { user: db.appUser, password: db.appPassword }) },
      maxBuffer: 64 << 20,
    });
    return r.status === 0;
  };
  const refusal = async (pattern: RegExp): Promise<void> => {
    await assert.rejects(checkDumpAccess(app), (e) => isOperatorError(e) && e.reason === 'TableNotReadable' && pattern.test(e.message), 'expected TableNotReadable');
    assert.equal(pgDumpWorks(), false, `pg_dump should fail where the check refuses (${pattern})`);
  };
  const passes = async (): Promise<void> => {
    await checkDumpAccess(app);
    assert.equal(pgDumpWorks(), true, 'pg_dump should work where the check passes');
  };

  before(async () => {
    server = await startPostgres();
    db = await server.createDatabase({ withVector: true });
    app = new pg.Client(db.appConfig());
    await app.connect();
    await app.query('CREATE TABLE own_posts (id bigserial PRIMARY KEY, body text)');
    await app.query('ALTER TABLE own_posts ENABLE ROW LEVEL SECURITY');
  });

  after(async () => {
    await app?.end();
    await server?.stop();
  });

  it('the role\'s own tables (even with row-level security), its sequences and the extension pass', async () => {
    const access = await checkDumpAccess(app);
    assert.equal(access.serverMajor, server.major);
    await passes();
  });

  it('names the first table, sequence or schema pg_dump could not read, until it is granted', async () => {
    await admin('CREATE TABLE public.a_private (id int PRIMARY KEY)');
    await admin('CREATE TABLE public.a_second (id int PRIMARY KEY)');
    await refusal(/may not SELECT table public\.a_private \(and 1 more\)/);
    await admin(`GRANT SELECT ON public.a_private, public.a_second TO "${db.appUser}"`);
    await passes();

    await admin('CREATE SEQUENCE public.b_counter');
    await refusal(/may not SELECT sequence public\.b_counter/);
    await admin(`GRANT SELECT ON SEQUENCE public.b_counter TO "${db.appUser}"`);

    await admin('CREATE SCHEMA hidden');
    await admin('CREATE TABLE hidden.t (id int PRIMARY KEY)');
    await admin(`GRANT SELECT ON hidden.t TO "${db.appUser}"`);
    await refusal(/has no USAGE on schema hidden/);
    await admin(`GRANT USAGE ON SCHEMA hidden TO "${db.appUser}"`);
    await passes();

    await admin('ALTER TABLE public.a_second ENABLE ROW LEVEL SECURITY');
    await refusal(/row-level security on table public\.a_second/);
    await admin('ALTER TABLE public.a_second DISABLE ROW LEVEL SECURITY');
    await passes();
  });

  it('a retention rule\'s table needs DELETE for delete and archive, UPDATE for mark', async () => {
    const rule = { name: 'old', table: 'a_private', action: 'delete' as const, olderThan: { column: 'id', age: '1d' } };
    await assert.rejects(checkRulePrivileges(app, [rule]), (e) => isOperatorError(e) && e.reason === 'TableNotReadable' && /rule "old": the database role may not DELETE on public\.a_private/.test(e.message));
    await admin(`GRANT DELETE ON public.a_private TO "${db.appUser}"`);
    await checkRulePrivileges(app, [rule]);
    await assert.rejects(checkRulePrivileges(app, [{ ...rule, action: 'mark', mark: { column: 'id' } } as never]), /may not UPDATE/);
    await checkRulePrivileges(app, [{ ...rule, table: 'own_posts', action: 'mark', mark: { column: 'id' } } as never]);
  });
});
