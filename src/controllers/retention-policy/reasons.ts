// Reasons of the RetentionPolicy controller.
import { reasonNames, type ReasonCatalog } from '../../reasons/catalog.ts';
import { CommonReasonCatalog } from '../../reasons/common.ts';

const { InvalidSpec, Suspended } = CommonReasonCatalog;

export const RetentionPolicyReasonCatalog = {
  RunSucceeded: 'The last run finished every rule (`status.lastRun` has the counts).',
  RunPartial: 'The last run stopped at `spec.budget`; the next run continues. Nothing, or raise the budget / run more often.',
  RunFailed: 'The last run failed without a more specific reason. Read the message and `status.lastRun.rules[].error`.',
  NotRunYet: 'The first run is scheduled (`status.nextRunTime`). Nothing; `kubectl lokdarpan retention-run POLICY` runs it now.',
} as const satisfies ReasonCatalog;

export const RetentionPolicyReasons = reasonNames({ InvalidSpec, Suspended, ...RetentionPolicyReasonCatalog });
