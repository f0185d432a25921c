// RetentionPolicy: scheduled, batched cleanup or archival of expired LokDarpan rows.
import * as z from 'zod';
import { conditionsSchema, localObjectReferenceSchema, policyDestinationSchema } from './common.ts';
import { cronSchema, timeZoneSchema } from './schedule.ts';
import { durationSchema } from './duration.ts';
import { AGE_RECIPIENT_PATTERN } from './backup.ts';
import { retentionRuleSchema } from '../engines/retention/rules.ts';

export const retentionPolicySpecSchema = z
  .object({
    databaseRef: localObjectReferenceSchema('The LokdarpanDatabase whose rows this policy expires.'),
    schedule: cronSchema('When to run, 5-field cron.', '30 3 * * *'),
    timeZone: timeZoneSchema(),
    suspend: z.boolean().default(false).describe('Run nothing while true.'),
    useDefaultRules: z.boolean().default(true).describe('Apply the built-in LokDarpan rules (docs/retention.md) in addition to spec.rules; a rule in spec.rules replaces the default rule of the same name.'),
    rules: z.array(retentionRuleSchema).max(64).default([]).describe('Retention rules; each names a table, which rows expire and what happens to them.'),
    batchSize: z
      .number()
      .int()
      .min(1)
      .max(50000)
      .default(1000)
      .describe(
        'Rows in the first batch; each batch is its own short transaction. Later delete and mark batches are sized so each holds its row locks about 20 ms (up to 50000 rows, or this value if larger); archive batches keep this size.',
      ),
    pauseBetweenBatches: durationSchema('Pause between batches, to leave room for other work.').default('10ms'),
    budget: durationSchema('Stop cleanly after this long and finish on the next run.').default('15m'),
    lockTimeout: durationSchema('lock_timeout for each batch; a batch that would wait longer is retried later.').default('2s'),
    checkInterval: durationSchema(
      'How often the database, the rules against its catalog and the archive destination are checked without running (also on every change of the spec or a referenced Secret and shortly before each run).',
    ).default('1h'),
    dryRun: z.boolean().default(false).describe('Count what would be affected and change nothing.'),
    archive: z
      .object({
        destination: policyDestinationSchema,
        recipients: z.array(z.string().regex(new RegExp(AGE_RECIPIENT_PATTERN))).min(1).max(16).describe('age public keys archives are encrypted to.'),
      })
      .optional()
      .describe('Where rules with action "archive" write their encrypted, compressed NDJSON exports.'),
  })
  .meta({
    description: 'Row retention for a LokDarpan database.',
    'x-kubernetes-validations': [
      { rule: "has(self.archive) || !has(self.rules) || self.rules.all(r, r.action != 'archive')", message: 'rules with action archive need spec.archive', fieldPath: '.rules' },
    ],
  });

export type RetentionPolicySpec = z.infer<typeof retentionPolicySpecSchema>;

const ruleRunSchema = z.object({
  name: z.string().describe('Rule name.'),
  table: z.string().describe('Table the rule applies to.'),
  action: z.string().describe('What the rule does with expired rows: delete, archive or mark.'),
  matched: z.number().int().describe('Expired rows found (in a dry run: rows that would be affected).'),
  deleted: z.number().int().describe('Rows deleted.'),
  archived: z.number().int().describe('Rows written to the archive (and deleted).'),
  marked: z.number().int().describe('Rows marked (the rule\'s mark column set).'),
  partial: z.boolean().optional().describe('The run\'s budget ran out before this rule finished; the next run continues.'),
  error: z.string().optional().describe('Why this rule failed; the other rules still ran. See the events and docs/retention.md.'),
});

export const retentionPolicyStatusSchema = z
  .object({
    observedGeneration: z.number().int().optional().describe('metadata.generation of the spec this status was computed from.'),
    conditions: conditionsSchema.optional(),
    nextRunTime: z.string().optional().describe('When the next scheduled run is due (RFC 3339); absent while suspended.'),
    lastRequest: z.string().optional().describe('Value of the lokdarpan.io/run-requested-at annotation last acted on.'),
    lastRun: z
      .object({
        startTime: z.string().optional().describe('When the run started (RFC 3339).'),
        durationMs: z.number().optional().describe('How long it took, in milliseconds.'),
        dryRun: z.boolean().optional().describe('It only counted (spec.dryRun); nothing was changed.'),
        partial: z.boolean().optional().describe('The budget ran out; the next run continues.'),
        matched: z.number().int().optional().describe('Expired rows found, over all rules.'),
        deleted: z.number().int().optional().describe('Rows deleted, over all rules.'),
        archived: z.number().int().optional().describe('Rows archived, over all rules.'),
        marked: z.number().int().optional().describe('Rows marked, over all rules.'),
        rules: z.array(ruleRunSchema).optional().describe('Per-rule results.'),
      })
      .optional()
      .describe('Counts of the last run.'),
  })
  .describe('Observed state of the retention policy.');
