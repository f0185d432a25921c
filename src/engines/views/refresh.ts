// Refreshes LokDarpan's materialized views with REFRESH ... CONCURRENTLY (readers are never blocked),
// one view per statement so each has its own timing and lock_timeout. A view that was created
// WITH NO DATA cannot be refreshed concurrently: it gets one plain refresh first.
import type { PgConnector } from '../../adapters/postgres/index.ts';
import { quoteIdent, sqlState } from '../../adapters/postgres/index.ts';
import { OperatorError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../observability/logger.ts';
import { systemClock, type Clock } from '../../clock.ts';
import { VIEW_REASONS } from './reasons.ts';

export const LOKDARPAN_VIEWS = ['ward_analytics_summary', 'daily_ward_trends'] as const;

export { VIEW_REASONS } from './reasons.ts';

export interface ViewRefreshOptions {
  views?: readonly string[];
  lockTimeoutMs?: number;
  statementTimeoutMs?: number;
  logger?: Logger;
  clock?: Clock;
  /** Aborting closes the session (a running REFRESH is cancelled by the server when the client goes away). */
  signal?: AbortSignal;
}

export interface RefreshedView {
  name: string;
  durationMs: number;
  concurrently: boolean;
  rows: number;
}

export interface ViewRefreshResult {
  startedAt: Date;
  durationMs: number;
  views: RefreshedView[];
}

export async function refreshMaterializedViews(connector: PgConnector, options: ViewRefreshOptions = {}): Promise<ViewRefreshResult> {
  const views = options.views ?? LOKDARPAN_VIEWS;
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const startedAt = clock.now();
  const began = performance.now();
  const client = await connector.connect({
    applicationName: 'lokdarpan-views',
    ...(options.signal ? { signal: options.signal } : {}),
    sessionSettings: { lock_timeout: `${options.lockTimeoutMs ?? 10_000}ms`, statement_timeout: `${options.statementTimeoutMs ?? 600_000}ms` },
  });
  try {
    const { rows } = await client.query<{ matviewname: string; ispopulated: boolean }>(
      `SELECT matviewname, ispopulated FROM pg_matviews WHERE schemaname = current_schema() AND matviewname = ANY($1)`,
      [views],
    );
    const found = new Map(rows.map((r) => [r.matviewname, r.ispopulated]));
    const missing = views.filter((v) => !found.has(v));
    if (missing.length > 0) {
      throw new OperatorError(VIEW_REASONS.ViewMissing, `materialized view${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not found; run the migrations (005 creates them)`);
    }
    const refreshed: RefreshedView[] = [];
    for (const view of views) {
      options.signal?.throwIfAborted();
      const concurrently = found.get(view) === true;
      const t0 = performance.now();
      try {
        await client.query(`REFRESH MATERIALIZED VIEW ${concurrently ? 'CONCURRENTLY ' : ''}${quoteIdent(view)}`);
      } catch (error) {
        options.signal?.throwIfAborted();
        const state = sqlState(error);
        const reason = state === '55P03' ? VIEW_REASONS.ViewRefreshLockTimeout : VIEW_REASONS.ViewRefreshFailed;
        throw new OperatorError(reason, `refreshing ${view} failed: ${(error as Error).message}`, { cause: error, details: { view, sqlState: state } });
      }
      const count = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteIdent(view)}`);
      const entry = { name: view, durationMs: Math.round(performance.now() - t0), concurrently, rows: Number(count.rows[0]?.n ?? 0) };
      logger.info(entry, 'materialized view refreshed');
      refreshed.push(entry);
    }
    return { startedAt, durationMs: Math.round(performance.now() - began), views: refreshed };
  } finally {
    await client.end().catch(() => {});
  }
}
