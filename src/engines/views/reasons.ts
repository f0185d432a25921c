// Reasons of a materialized view refresh.
import { reasonNames, type ReasonCatalog } from '../../reasons/catalog.ts';

export const ViewReasonCatalog = {
  ViewMissing: '`ward_analytics_summary` or `daily_ward_trends` does not exist. Let the migrations run (005 creates them); check SchemaReady.',
  ViewRefreshFailed: '`REFRESH MATERIALIZED VIEW` failed; `status.views.lastError` has the error. Read the error; retried on the next schedule or request.',
  ViewRefreshLockTimeout: 'The refresh waited too long for a lock. Find the long transaction holding the view; the next refresh retries.',
} as const satisfies ReasonCatalog;

export const VIEW_REASONS = reasonNames(ViewReasonCatalog);
