// The reasons a retention run can fail or stop with. Each OperatorError the retention engine throws
// carries one of these; the RetentionPolicy controller copies it into a condition (docs/retention.md
// explains every one).
export const RetentionReasons = {
  /** A rule does not match the schema (missing field, two expiry kinds, unknown operator...). */
  RetentionRuleInvalid: 'RetentionRuleInvalid',
  /** A duration is not "<whole number><unit>" or is shorter than the minimum. */
  RetentionDurationInvalid: 'RetentionDurationInvalid',
  /** A table or column name is not a plain SQL identifier (quotes, spaces, semicolons: an injection attempt). */
  RetentionIdentifierInvalid: 'RetentionIdentifierInvalid',
  /** The rule names a table that is not an ordinary table in the database catalog. */
  RetentionUnknownTable: 'RetentionUnknownTable',
  /** The rule names a column the table does not have. */
  RetentionUnknownColumn: 'RetentionUnknownColumn',
  /** A column exists but its type does not fit how the rule uses it (e.g. olderThan on a text column). */
  RetentionColumnTypeMismatch: 'RetentionColumnTypeMismatch',
  /** The table has no single-column primary key, so it cannot be deleted in keyed batches. */
  RetentionNoPrimaryKey: 'RetentionNoPrimaryKey',
  /** The rule names a table that retention must never touch (e.g. `post`). */
  RetentionTableProtected: 'RetentionTableProtected',
  /** An archive rule runs without an archive destination (sink and recipients). */
  RetentionArchiveNotConfigured: 'RetentionArchiveNotConfigured',
  /** An archive object did not read back with the SHA-256 it was written with; nothing was deleted. */
  RetentionArchiveVerifyFailed: 'RetentionArchiveVerifyFailed',
  /** Another run holds this rule's advisory lock; the rule was skipped this time. */
  RetentionRuleBusy: 'RetentionRuleBusy',
  /** A batch kept failing (lock timeout, statement timeout, server error); the run stopped. */
  RetentionBatchFailed: 'RetentionBatchFailed',
} as const;

export type RetentionReason = (typeof RetentionReasons)[keyof typeof RetentionReasons];
