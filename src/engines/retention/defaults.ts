// The default retention rules for LokDarpan's ai_* tables (migration 004): the seed's periods made
// consistent, and row for row the same policy as the SQL function ai_cleanup_expired_data() of
// migration 004. docs/retention.md explains each rule. Posts are never touched.
import type { RetentionRule } from './rules.ts';

export interface DefaultRulesOptions {
  /**
   * Reports deleted after 3 years are first exported to the archive (action "archive") when true;
   * otherwise they are deleted (action "delete"). Default false (no archive destination needed).
   */
  archiveReports?: boolean;
}

const EMBEDDING_PERIODS: ReadonlyArray<{ name: string; sources: string[]; age: string }> = [
  { name: 'news', sources: ['news'], age: '90d' },
  { name: 'analysis', sources: ['analysis', 'perplexity'], age: '365d' },
  { name: 'report', sources: ['report'], age: '730d' },
  { name: 'manual', sources: ['manual'], age: '1095d' },
];

export function defaultRetentionRules(options: DefaultRulesOptions = {}): RetentionRule[] {
  const rules: RetentionRule[] = [
    { name: 'embeddings-expired', table: 'ai_embedding_store', expiresAtColumn: 'expires_at', action: 'delete' },
  ];
  // Idle embeddings: fewer than 5 uses, and neither created nor used within their category's period.
  for (const period of EMBEDDING_PERIODS) rules.push(idleEmbeddings(`embeddings-${period.name}-idle`, { op: 'in', values: period.sources }, period.age));
  rules.push(idleEmbeddings('embeddings-other-idle', { op: 'notIn', values: EMBEDDING_PERIODS.flatMap((p) => p.sources) }, '365d'));

  rules.push({
    name: 'model-executions-180d',
    table: 'ai_model_execution',
    olderThan: { column: 'created_at', age: '180d' },
    filters: [{ column: 'success_status', op: 'ne', value: 'error' }],
    action: 'delete',
  });

  const archiveMark = (reason: string): RetentionRule['mark'] => ({ column: 'is_archived', set: [{ column: 'archive_reason', value: reason }] });
  rules.push(
    { name: 'reports-archive-expired', table: 'ai_geopolitical_report', expiresAtColumn: 'expires_at', action: 'mark', mark: archiveMark('auto_archive_expired') },
    {
      name: 'reports-archive-idle',
      table: 'ai_geopolitical_report',
      olderThan: { column: 'completed_at', age: '90d' },
      filters: [{ column: 'last_accessed_at', op: 'lt', ago: '90d', orNull: true }],
      action: 'mark',
      mark: archiveMark('auto_archive_inactive'),
    },
    {
      name: 'reports-archive-unfinished',
      table: 'ai_geopolitical_report',
      olderThan: { column: 'requested_at', age: '90d' },
      filters: [
        { column: 'completed_at', op: 'isNull' },
        { column: 'last_accessed_at', op: 'lt', ago: '90d', orNull: true },
      ],
      action: 'mark',
      mark: archiveMark('auto_archive_inactive'),
    },
  );
  const finalAction = options.archiveReports === true ? 'archive' : 'delete';
  rules.push(
    {
      name: 'reports-delete-3y',
      table: 'ai_geopolitical_report',
      olderThan: { column: 'completed_at', age: '3y' },
      filters: [{ column: 'is_archived', op: 'eq', value: true }],
      action: finalAction,
    },
    {
      name: 'reports-delete-unfinished-3y',
      table: 'ai_geopolitical_report',
      olderThan: { column: 'requested_at', age: '3y' },
      filters: [
        { column: 'completed_at', op: 'isNull' },
        { column: 'is_archived', op: 'eq', value: true },
      ],
      action: finalAction,
    },
    { name: 'metrics-1y', table: 'ai_system_metrics', olderThan: { column: 'created_at', age: '1y' }, action: 'delete' },
  );
  return rules;
}

function idleEmbeddings(name: string, source: { op: 'in' | 'notIn'; values: string[] }, age: string): RetentionRule {
  return {
    name,
    table: 'ai_embedding_store',
    olderThan: { column: 'created_at', age },
    filters: [
      { column: 'source_type', ...source },
      { column: 'access_count', op: 'lt', value: 5 },
      { column: 'last_accessed_at', op: 'lt', ago: age, orNull: true },
    ],
    action: 'delete',
  };
}
