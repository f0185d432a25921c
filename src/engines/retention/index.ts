// Row retention for LokDarpan's tables: rule schema, default rules, the batched engine and its archive sinks.
export { RetentionReasons, type RetentionReason } from './reasons.ts';
export {
  FILTER_OPERATORS, IDENTIFIER_PATTERN, RETENTION_ACTIONS, RETENTION_DURATION_PATTERN, parseRetentionDuration, parseRules,
  retentionFilterSchema, retentionMarkSchema, retentionRuleSchema, retentionRulesSchema,
  type FilterOperator, type RetentionAction, type RetentionFilter, type RetentionRule,
} from './rules.ts';
export { defaultRetentionRules, type DefaultRulesOptions } from './defaults.ts';
export { readTable, resolveRules, type ColumnInfo, type ResolvedRule, type TableInfo } from './catalog.ts';
export {
  ARCHIVE_FORMAT, MemoryArchiveSink, ageEncryptor, archiveKeys, encodeArchive,
  type ArchiveEncryptor, type ArchiveManifest, type ArchiveSink, type PendingMarker,
} from './archive.ts';
export { s3ArchiveSink } from './s3-sink.ts';
export {
  createRetentionEngine, DEFAULT_PROTECTED_TABLES, DEFAULT_TARGET_BATCH_MS, nextBatchSize,
  type PlannedRule, type RetentionArchiveOptions, type RetentionEngine, type RetentionEngineOptions, type RetentionPlan,
  type RetentionRunResult, type RetentionTotals, type RuleOutcome,
} from './engine.ts';
