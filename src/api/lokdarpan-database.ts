// LokdarpanDatabase: a PostgreSQL database the operator migrates, keeps its views fresh and validates.
import * as z from 'zod';
import { conditionsSchema, objectNameSchema } from './common.ts';
import { cronSchema, timeZoneSchema } from './schedule.ts';
import { durationSchema } from './duration.ts';

export const connectionSchema = z
  .object({
    secretName: objectNameSchema(
      'Secret with the connection: either a "uri" key (postgres://user:password@host:port/database) or the keys host, port, database, user and password.',
    ),
    uriKey: z.string().max(253).default('uri').describe('Key of the connection URI in the Secret; when absent, the discrete keys are used.'),
    sslMode: z
      .enum(['disable', 'require', 'verify-full'])
      .default('disable')
      .describe('TLS: disable, require (encrypt, do not verify the server), or verify-full (encrypt and verify against "ca.crt" in the Secret). An sslmode in the URI wins.'),
  })
  .describe('How to reach the database.');

export const migrationsSpecSchema = z
  .object({
    targetVersion: z.string().max(128).optional().describe('Migration to stop at (its name, e.g. "005_electoral_optimization"); empty means the latest.'),
    allowDowngrade: z.boolean().default(false).describe('Allow running down-migrations when targetVersion is older than the applied schema.'),
    approvedPlanHash: z
      .string()
      .max(64)
      .optional()
      .describe('With requireApproval, the plan hash (status.plan.hash) the operator may apply. Anything else waits.'),
    requireApproval: z.boolean().default(false).describe('Publish the plan in status and apply only when approvedPlanHash equals its hash.'),
    lockTimeout: durationSchema('How long to wait for another runner\'s migration lock before failing with the holder named.').default('60s'),
  })
  .default({ allowDowngrade: false, requireApproval: false, lockTimeout: '60s' })
  .describe('Schema migration settings.');

export const viewsSpecSchema = z
  .object({
    refreshSchedule: cronSchema('When to refresh the materialized views (REFRESH MATERIALIZED VIEW CONCURRENTLY), 5-field cron.', '0 * * * *'),
    timeZone: timeZoneSchema(),
    staleAfter: durationSchema('ViewsFresh turns False when the last successful refresh is older than this.').default('2h'),
  })
  .default({ refreshSchedule: '0 * * * *', timeZone: 'UTC', staleAfter: '2h' })
  .describe('Materialized view refreshes.');

export const thresholdsSchema = z
  .object({
    wardQueryP95Ms: z.number().positive().default(100).describe('p95 of the ward dashboard query, in milliseconds.'),
    vectorSearchP95Ms: z.number().positive().default(50).describe('p95 of a top-10 similarity search, in milliseconds.'),
    fullTextSearchP95Ms: z.number().positive().default(100).describe('p95 of a full-text search on posts, in milliseconds.'),
    competitiveAnalysisP95Ms: z.number().positive().default(200).describe('p95 of get_ward_competitive_analysis, in milliseconds.'),
  })
  .default({ wardQueryP95Ms: 100, vectorSearchP95Ms: 50, fullTextSearchP95Ms: 100, competitiveAnalysisP95Ms: 200 })
  .describe('Targets each measured query must meet (defaults are the LokDarpan migration guide\'s targets).');

export const validationSpecSchema = z
  .object({
    schedule: cronSchema('When to run the performance validation, 5-field cron.', '*/30 * * * *'),
    timeZone: timeZoneSchema(),
    samples: z.number().int().min(1).max(200).default(20).describe('Executions per query; the p95 is taken over these. Bounds the load the validation puts on the database.'),
    thresholds: thresholdsSchema,
  })
  .default({
    schedule: '*/30 * * * *',
    timeZone: 'UTC',
    samples: 20,
    thresholds: { wardQueryP95Ms: 100, vectorSearchP95Ms: 50, fullTextSearchP95Ms: 100, competitiveAnalysisP95Ms: 200 },
  })
  .describe('Scheduled query-performance validation.');

export const lokdarpanDatabaseSpecSchema = z
  .object({
    connection: connectionSchema,
    migrations: migrationsSpecSchema,
    views: viewsSpecSchema,
    validation: validationSpecSchema,
    suspend: z.boolean().default(false).describe('Stop all work on this database (migrations, refreshes, validations) until false again.'),
  })
  .meta({
    description: 'Desired state of a LokDarpan database.',
    'x-kubernetes-validations': [
      {
        rule: "!has(self.migrations) || !has(self.migrations.approvedPlanHash) || self.migrations.approvedPlanHash == '' || self.migrations.requireApproval",
        message: 'migrations.approvedPlanHash only has an effect with migrations.requireApproval: true',
      },
    ],
  });

export type LokdarpanDatabaseSpec = z.infer<typeof lokdarpanDatabaseSpecSchema>;

const appliedMigrationSchema = z.object({
  name: z.string().describe('Migration name.'),
  checksum: z.string().describe('sha256 of the migration file when it was applied.'),
  appliedAt: z.string().describe('When it was applied.'),
  durationMs: z.number().describe('How long it took.'),
  kind: z.string().optional().describe('applied, or adopted when baselined from a Flask-era database.'),
});

const validationResultSchema = z.object({
  query: z.string().describe('Name of the measured query.'),
  p95Ms: z.number().describe('Measured p95 in milliseconds.'),
  thresholdMs: z.number().describe('Threshold it is held to.'),
  passed: z.boolean().describe('Whether p95 <= threshold.'),
  usesIndex: z.boolean().optional().describe('Whether the plan used an index.'),
});

export const lokdarpanDatabaseStatusSchema = z
  .object({
    observedGeneration: z.number().int().optional().describe('Generation of the spec the status describes.'),
    conditions: conditionsSchema.optional(),
    schemaVersion: z.string().optional().describe('Name of the last applied migration.'),
    pendingCount: z.number().int().optional().describe('Number of migrations not yet applied.'),
    pendingMigrations: z.array(z.string()).optional().describe('Names of pending migrations, in order.'),
    plan: z
      .object({
        hash: z.string().describe('Stable hash of the pending plan; put it in spec.migrations.approvedPlanHash to approve.'),
        steps: z
          .array(
            z.object({
              name: z.string().describe('Migration name, for example "006_post_search_vector".'),
              checksum: z.string().describe('sha256 of the migration file as shipped in this operator version.'),
              direction: z.string().describe('up (apply) or down (revert, only with spec.migrations.allowDowngrade).'),
              transactional: z.boolean().describe('Whether it runs in one transaction; a non-transactional step (CREATE INDEX CONCURRENTLY) that fails may need a look before the retry.'),
            }),
          )
          .describe('Planned migrations, in the order they would run.'),
      })
      .optional()
      .describe('The migration plan the operator would run now.'),
    appliedMigrations: z.array(appliedMigrationSchema).optional().describe('History of applied migrations.'),
    server: z
      .object({
        version: z.string().optional().describe('PostgreSQL server version (server_version), read at each reconcile.'),
        pgvectorVersion: z.string().optional().describe('pgvector version installed in the database (or available to install when not installed yet).'),
      })
      .optional()
      .describe('Versions seen on the server.'),
    views: z
      .object({
        lastRefreshTime: z.string().optional().describe('When the last refresh started, successful or not (RFC 3339).'),
        lastSuccessfulRefreshTime: z.string().optional().describe('When the last successful refresh finished (RFC 3339); ViewsFresh turns False once it is older than spec.views.staleAfter.'),
        lastDurationMs: z.number().optional().describe('How long the last refresh of all views took, in milliseconds.'),
        nextRefreshTime: z.string().optional().describe('When the next scheduled refresh is due (RFC 3339), from spec.views.refreshSchedule.'),
        lastError: z.string().optional().describe('Why the last refresh failed; cleared by the next success. See the ViewsFresh condition and the events for details.'),
        lastRequest: z.string().optional().describe('Value of the lokdarpan.io/refresh-requested-at annotation last acted on.'),
      })
      .optional()
      .describe('Materialized view refresh state.'),
    validation: z
      .object({
        lastRunTime: z.string().optional().describe('When the last validation ran (RFC 3339).'),
        nextRunTime: z.string().optional().describe('When the next scheduled validation is due (RFC 3339), from spec.validation.schedule.'),
        results: z.array(validationResultSchema).optional().describe('One entry per measured query; PerformanceHealthy is False when any failed.'),
        lastRequest: z.string().optional().describe('Value of the lokdarpan.io/validate-requested-at annotation last acted on.'),
      })
      .optional()
      .describe('Last performance validation.'),
  })
  .describe('Observed state of a LokDarpan database.');

export type LokdarpanDatabaseStatus = z.infer<typeof lokdarpanDatabaseStatusSchema>;
