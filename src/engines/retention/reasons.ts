// The reasons a retention run can fail or stop with. Each OperatorError the retention engine throws
// carries one of these; the RetentionPolicy controller copies it into a condition.
import { reasonNames, type ReasonCatalog } from '../../reasons/catalog.ts';

export const RetentionReasonCatalog = {
  RetentionRuleInvalid: 'A rule does not match the schema: a missing field, both or neither of olderThan/expiresAtColumn, a wrong operator/value combination, a duplicate name. Fix the rule; the message names the rule and the field.',
  RetentionDurationInvalid: 'A duration is not `<number><h|d|w|y>`, or is outside 1h..100y. Write e.g. `90d`, `26w`, `3y`.',
  RetentionIdentifierInvalid: 'A schema/table/column name is not a plain identifier (quotes, spaces, `;`): treated as an injection attempt. Use the bare name; it is quoted for you.',
  RetentionUnknownTable: 'The table is not an ordinary table in the catalog. Check the name and schema (and that migrations ran).',
  RetentionUnknownColumn: 'The table has no such column. Check the column name.',
  RetentionColumnTypeMismatch: "The column's type does not fit its use (time for olderThan, boolean for mark, scalar for comparisons). Use a column of the right type.",
  RetentionNoPrimaryKey: 'No single-column primary key to batch by. Add one, or do not use retention on this table.',
  RetentionTableProtected: 'The table is protected (`public.post`) or in a system schema. Retention never touches it.',
  RetentionArchiveNotConfigured: 'An `archive` rule without an archive destination and recipients. Configure `spec.archive` (or `--archive-bucket` + `--recipient`).',
  RetentionArchiveVerifyFailed: 'An object did not read back with its SHA-256, so nothing was deleted. Also raised when recovery finds a committed batch whose object is missing. Check the bucket; the next run retries.',
  RetentionRuleBusy: "Another session holds the rule's advisory lock; the rule was skipped. Nothing; it runs next time.",
  RetentionBatchFailed: 'A batch kept hitting timeouts or conflicts, deleted an unexpected count, or ended with an unknown commit outcome. Look at the message; the next run resumes.',
} as const satisfies ReasonCatalog;

export const RetentionReasons = reasonNames(RetentionReasonCatalog);

export type RetentionReason = keyof typeof RetentionReasons;
