// The real probes behind the preflight checks: an S3 probe object per destination, a short session to
// the database with tight timeouts, and the pg_dump the backups would use (unit tests pass fakes).
import { chooseTool, type PgBinDirs } from '../../adapters/pgdump/index.ts';
import { createConnector, describeConnection } from '../../adapters/postgres/index.ts';
import { OperatorError, describeError } from '../../errors.ts';
import { storeOptionsOf } from './destinations.ts';
import type { PreflightProbes } from './preflight.ts';

export function realPreflightProbes(options: { binDirs: PgBinDirs }): PreflightProbes {
  return {
    async destination(destination, credentials) {
      // The AWS SDK (~30 MB of RSS) is loaded by the first resource with a destination, not at start.
      const { S3ObjectStore, probeStore } = await import('../../adapters/s3/index.ts');
      const store = new S3ObjectStore({ ...storeOptionsOf(destination, credentials), maxAttempts: 2, connectionTimeoutMs: 5_000 });
      try {
        return await probeStore(store, { signal: AbortSignal.timeout(30_000) });
      } finally {
        store.destroy();
      }
    },
    async withDatabase(settings, fn) {
      const connector = createConnector(settings, {
        applicationName: 'lokdarpan-preflight',
        connectTimeoutMs: 10_000,
        sessionSettings: { statement_timeout: '15s', lock_timeout: '1s', default_transaction_read_only: 'on' },
      });
      let client;
      try {
        client = await connector.connect();
      } catch (error) {
        throw new OperatorError('DatabaseUnavailable', `could not connect to ${describeConnection(settings)}: ${describeError(error)}`, { cause: error });
      }
      try {
        return await fn(client);
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    async pgDump(major) {
      return (await chooseTool(options.binDirs, 'pg_dump', major)).version;
    },
  };
}
