// The real retention engine behind a RetentionPolicy reconcile (unit tests pass fakes instead).
import { createConnector } from '../../adapters/postgres/index.ts';
import { createRetentionEngine, s3ArchiveSink } from '../../engines/retention/index.ts';
import type { Logger } from '../../observability/logger.ts';
import { objectStoreFor } from '../shared/destinations.ts';
import type { RetentionEngines } from './reconciler.ts';

export function retentionEngines(options: { logger: Logger }): RetentionEngines {
  return {
    async run(settings, rules, { dryRun, archive, ...tuning }) {
      const client = await createConnector(settings, { applicationName: 'lokdarpan-retention' }).connect();
      try {
        const engine = createRetentionEngine({ db: client, logger: options.logger, ...tuning, ...(archive ? { archive } : {}) });
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
