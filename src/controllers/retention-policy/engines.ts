// The real retention engine behind a RetentionPolicy reconcile (unit tests pass fakes instead).
import { createConnector } from '../../adapters/postgres/index.ts';
import { createRetentionEngine, s3ArchiveSink } from '../../engines/retention/index.ts';
import type { Logger } from '../../observability/logger.ts';
import { objectStoreFor } from '../shared/destinations.ts';
import type { RetentionEngines } from './reconciler.ts';

export function retentionEngines(options: { logger: Logger }): RetentionEngines {
  return {
    async run(settings, rules, { dryRun, archive, signal, ...tuning }) {
      // Aborting the signal destroys the session: the server rolls back the batch in flight.
      const client = await createConnector(settings, { applicationName: 'lokdarpan-retention', ...(signal ? { signal } : {}) }).connect();
      try {
        const engine = createRetentionEngine({ db: client, logger: options.logger, ...tuning, ...(archive ? { archive } : {}), ...(signal ? { signal } : {}) });
        return await engine.run(rules, { dryRun });
      } finally {
        await client.end().catch(() => {});
      }
    },
    async archiveSink(destination, secrets, namespace) {
      return s3ArchiveSink(await objectStoreFor(destination, secrets, namespace));
    },
  };
}
