// The real engines behind a LokdarpanDatabase reconcile (unit tests pass fakes instead).
import { createConnector, type PgPools } from '../../adapters/postgres/index.ts';
import { cachedMigrations, createMigrationEngine, lokdarpanAdopters } from '../../engines/migrations/index.ts';
import { refreshMaterializedViews } from '../../engines/views/refresh.ts';
import { validatePerformance } from '../../engines/validation/validate.ts';
import { lokdarpanProbes } from '../../engines/validation/lokdarpan-probes.ts';
import type { Logger } from '../../observability/logger.ts';
import type { DatabaseEngines } from './reconciler.ts';

/** `pools`: sessions reused per database (the operator's); without it each session is a new connection. */
export function lokdarpanDatabaseEngines(options: { migrationsDir: string; logger: Logger; pools?: PgPools }): DatabaseEngines {
  const { migrationsDir, logger, pools } = options;
  const files = cachedMigrations(migrationsDir);
  const adopters = lokdarpanAdopters(migrationsDir);
  return {
    // The signal is bound to the connector too: every session it opens is closed when the reconcile aborts.
    connector: (settings, signal) => {
      const defaults = { applicationName: 'lokdarpan-operator', ...(signal ? { signal } : {}) };
      return pools ? pools.connector(settings, defaults) : createConnector(settings, defaults);
    },
    migrations: (connection, { lockTimeoutMs, instance, signal }) =>
      createMigrationEngine({ connection, migrationsDir, files, instance, logger, lockTimeoutMs, adopters, ...(signal ? { signal } : {}) }),
    refreshViews: (connector, signal) => refreshMaterializedViews(connector, { logger, ...(signal ? { signal } : {}) }),
    validate: (connector, validation, signal) =>
      validatePerformance(connector, lokdarpanProbes, { samples: validation.samples, thresholds: validation.thresholds, logger, ...(signal ? { signal } : {}) }),
  };
}
