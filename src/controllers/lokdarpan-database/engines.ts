// The real engines behind a LokdarpanDatabase reconcile (unit tests pass fakes instead).
import { createConnector } from '../../adapters/postgres/index.ts';
import { createMigrationEngine, lokdarpanAdopters } from '../../engines/migrations/index.ts';
import { refreshMaterializedViews } from '../../engines/views/refresh.ts';
import { validatePerformance } from '../../engines/validation/validate.ts';
import { lokdarpanProbes } from '../../engines/validation/lokdarpan-probes.ts';
import type { Logger } from '../../observability/logger.ts';
import type { DatabaseEngines } from './reconciler.ts';

export function lokdarpanDatabaseEngines(options: { migrationsDir: string; logger: Logger }): DatabaseEngines {
  const { migrationsDir, logger } = options;
  return {
    connector: (settings) => createConnector(settings, { applicationName: 'lokdarpan-operator' }),
    migrations: (connection, { lockTimeoutMs, instance }) =>
      createMigrationEngine({ connection, migrationsDir, instance, logger, lockTimeoutMs, adopters: lokdarpanAdopters(migrationsDir) }),
    refreshViews: (connector) => refreshMaterializedViews(connector, { logger }),
    validate: (connector, validation) =>
      validatePerformance(connector, lokdarpanProbes, { samples: validation.samples, thresholds: validation.thresholds, logger }),
  };
}
