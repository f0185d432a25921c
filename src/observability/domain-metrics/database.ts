// LokdarpanDatabase metrics: readiness, migrations, view refreshes and query performance, from the
// database's status (every reconcile) and from the engines' results as they happen.
import { DATABASE_METRICS, type DomainMetrics } from './definitions.ts';
import {
  bool,
  conditionIs,
  databaseLabels,
  forgetSeries,
  setExpectedInterval,
  setTimestamp,
  type ConditionSnapshot,
  type DatabaseLabels,
  type ScheduleSpec,
} from './series.ts';

export type MigrationDirection = 'up' | 'down';

export interface DatabaseStatusSnapshot {
  conditions?: readonly ConditionSnapshot[] | undefined;
  schemaVersion?: string | undefined;
  pendingCount?: number | undefined;
  server?: { version?: string | undefined; pgvectorVersion?: string | undefined } | undefined;
  views?: { lastSuccessfulRefreshTime?: string | undefined } | undefined;
  validation?:
    | {
        lastRunTime?: string | undefined;
        results?: ReadonlyArray<{ query: string; p95Ms: number; thresholdMs: number }> | undefined;
      }
    | undefined;
}

export interface DatabaseScheduleSnapshot {
  /** The view refresh schedule; omitted or suspended: the expected interval is 0. */
  views?: ScheduleSpec | undefined;
  suspended?: boolean | undefined;
}

export interface DatabaseRecorder {
  /** Every status-derived gauge of a database: call on every reconcile (so nothing goes stale after a restart). */
  recordDatabaseStatus(db: DatabaseLabels, status: DatabaseStatusSnapshot, schedules?: DatabaseScheduleSnapshot, now?: Date): void;
  /** One migration applied (or reverted). */
  recordMigration(db: DatabaseLabels, migration: { name: string; durationMs: number; direction?: MigrationDirection | undefined }): void;
  recordMigrationFailure(db: DatabaseLabels, reason: string): void;
  recordViewRefresh(db: DatabaseLabels, refresh: { finishedAt: Date; durationMs: number }): void;
  recordViewRefreshFailure(db: DatabaseLabels, reason: string): void;
  /** Per-query p95 and threshold and the overall health of one performance validation. */
  recordValidation(db: DatabaseLabels, validation: { finishedAt: Date; passed: boolean; results: ReadonlyArray<{ query: string; p95Ms: number; thresholdMs: number }> }): void;
  /** Remove every series of a deleted LokdarpanDatabase. */
  forgetDatabase(db: DatabaseLabels): Promise<void>;
}

export function databaseRecorder(m: DomainMetrics): DatabaseRecorder {
  /** Last databaseInfo label set per database, so a version change replaces the old series. */
  const infoLabels = new Map<string, Record<'namespace' | 'name' | 'schema_version' | 'server_version' | 'pgvector_version', string>>();
  const key = (db: DatabaseLabels) => `${db.namespace}/${db.name}`;
  const setQueries = (labels: ReturnType<typeof databaseLabels>, results: ReadonlyArray<{ query: string; p95Ms: number; thresholdMs: number }>) => {
    for (const r of results) {
      m.queryP95Seconds.set({ ...labels, query: r.query }, r.p95Ms / 1000);
      m.queryThresholdSeconds.set({ ...labels, query: r.query }, r.thresholdMs / 1000);
    }
  };

  return {
    recordDatabaseStatus(db, status, schedules = {}, now = new Date()) {
      const labels = databaseLabels(db);
      m.databaseReady.set(labels, bool(conditionIs(status.conditions, 'Ready') === true));
      m.databaseStalled.set(labels, bool(conditionIs(status.conditions, 'Stalled') === true));
      if (status.pendingCount !== undefined) m.databasePendingMigrations.set(labels, status.pendingCount);
      const info = {
        ...labels,
        schema_version: status.schemaVersion ?? '',
        server_version: status.server?.version ?? '',
        pgvector_version: status.server?.pgvectorVersion ?? '',
      };
      const previous = infoLabels.get(key(db));
      if (previous && JSON.stringify(previous) !== JSON.stringify(info)) m.databaseInfo.remove(previous);
      m.databaseInfo.set(info, 1);
      infoLabels.set(key(db), info);
      setTimestamp(m.viewRefreshLastSuccessTimestampSeconds, labels, status.views?.lastSuccessfulRefreshTime);
      setExpectedInterval(m.viewRefreshExpectedIntervalSeconds, labels, schedules.views, schedules.suspended === true, now);
      const healthy = conditionIs(status.conditions, 'PerformanceHealthy');
      if (healthy !== undefined) m.performanceHealthy.set(labels, bool(healthy));
      setTimestamp(m.performanceValidationLastRunTimestampSeconds, labels, status.validation?.lastRunTime);
      setQueries(labels, status.validation?.results ?? []);
    },

    recordMigration(db, migration) {
      const direction = migration.direction ?? 'up';
      m.migrationDurationSeconds.observe({ ...databaseLabels(db), migration: migration.name, direction }, migration.durationMs / 1000);
      m.migrationsAppliedTotal.inc({ ...databaseLabels(db), direction });
    },

    recordMigrationFailure(db, reason) {
      m.migrationFailuresTotal.inc({ ...databaseLabels(db), reason });
    },

    recordViewRefresh(db, refresh) {
      m.viewRefreshDurationSeconds.observe(databaseLabels(db), refresh.durationMs / 1000);
      m.viewRefreshLastSuccessTimestampSeconds.set(databaseLabels(db), refresh.finishedAt.getTime() / 1000);
    },

    recordViewRefreshFailure(db, reason) {
      m.viewRefreshFailuresTotal.inc({ ...databaseLabels(db), reason });
    },

    recordValidation(db, validation) {
      const labels = databaseLabels(db);
      setQueries(labels, validation.results);
      m.performanceHealthy.set(labels, bool(validation.passed));
      m.performanceValidationLastRunTimestampSeconds.set(labels, validation.finishedAt.getTime() / 1000);
    },

    async forgetDatabase(db) {
      infoLabels.delete(key(db));
      await forgetSeries(m, DATABASE_METRICS, databaseLabels(db));
    },
  };
}
