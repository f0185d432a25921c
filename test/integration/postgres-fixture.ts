// PostgreSQL for the tests of one file or describe: started in a before() hook, stopped in after(), with
// the databases, clients and other things the tests create cleaned up in between (last first).
import { after, before } from 'node:test';
import pg from 'pg';
import { startPostgres, type CreateDatabaseOptions, type PostgresServer, type TestDatabase } from '../env/postgres.ts';

export interface PostgresFixture {
  /** The server (once the before() hook has run). */
  readonly server: PostgresServer;
  /** A fresh database, dropped at the end. */
  database(options?: CreateDatabaseOptions): Promise<TestDatabase>;
  /** A client connected as `db`'s owner role, ended at the end; its errors after a test killed it are ignored. */
  connect(db: TestDatabase): Promise<pg.Client>;
  /** Runs `cleanup` at the end, before what was registered earlier; its failure is ignored. */
  onCleanup(cleanup: () => Promise<unknown>): void;
}

/** Registers the before/after hooks of the enclosing describe (or of the file, at top level). */
export function postgresFixture(): PostgresFixture {
  let server: PostgresServer | undefined;
  const cleanups: Array<() => Promise<unknown>> = [];
  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    await server?.stop();
  });
  const fixture: PostgresFixture = {
    get server() {
      if (!server) throw new Error('the PostgreSQL fixture is read before its before() hook ran');
      return server;
    },
    async database(options) {
      const db = await fixture.server.createDatabase(options);
      cleanups.push(() => db.drop());
      return db;
    },
    async connect(db) {
      const client = new pg.Client(db.appConfig());
      await client.connect();
      client.on('error', () => {});
      cleanups.push(() => client.end());
      return client;
    },
    onCleanup(cleanup) {
      cleanups.push(cleanup);
    },
  };
  return fixture;
}
