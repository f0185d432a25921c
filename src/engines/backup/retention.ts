// Retention of backups: a pure GFS planner (keepLast / keepDaily / keepWeekly / keepMonthly, maxAge)
// and an executor that applies a plan to one destination, skipping and reporting Object-Locked objects.
//
// Semantics (as restic and borg): backups are taken newest first; keepLast keeps the N newest; keepDaily
// keeps the newest backup of each of the N most recent calendar days that have a backup, and so on
// for ISO weeks and months. Days, weeks and months are those of the policy's IANA time zone (default
// UTC), the zone its schedule runs in: a 00:30 IST backup belongs to that Indian day, not the UTC one. A backup kept by any rule stays. maxAge removes whatever is older, except
// that the newest backup is never removed (a stalled schedule must not erase the last good backup).
// Backups dated in the future are kept.
import type { Clock } from '../../clock.ts';
import { systemClock } from '../../clock.ts';
import { silentLogger, type Logger } from '../../observability/logger.ts';
import { OperatorError, isOperatorError, describeError } from '../../errors.ts';
import { BackupReasons } from './reasons.ts';
import { listBackups } from './catalog.ts';
import type { BackupOwner } from './manifest.ts';
import type { ObjectStore } from './ports.ts';

export interface RetentionRules {
  keepLast?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  /** Milliseconds; unset means no age limit. */
  maxAgeMs?: number;
}

export type KeepReason = 'last' | 'daily' | 'weekly' | 'monthly' | 'newest' | 'future' | 'protected';

export interface PlannedBackup {
  id: string;
  time: Date;
}

export interface RetentionDecision {
  id: string;
  time: string;
  keep: boolean;
  /** Why it is kept (rules that selected it). */
  reasons: KeepReason[];
  /** Why it goes, when not kept. */
  deleteReason?: 'unselected' | 'maxAge';
}

export interface RetentionPlan {
  keep: RetentionDecision[];
  delete: RetentionDecision[];
}

/** Calendar date parts of `d` in `timeZone` (an IANA name, e.g. "Asia/Kolkata"). */
function localDate(d: Date, timeZone: string): { year: number; month: number; day: number } {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' });
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(d).map((p) => [p.type, p.value]));
  return { year: Number(parts['year']), month: Number(parts['month']), day: Number(parts['day']) };
}
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Throws InvalidRequest unless `timeZone` is an IANA zone this runtime knows. */
export function assertTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new OperatorError(BackupReasons.InvalidRequest, `time zone "${timeZone}" is not a known IANA time zone`, { terminal: true });
  }
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** "2026-03-01": the calendar day of `d` in `timeZone` (default UTC). */
export function dayKey(d: Date, timeZone = 'UTC'): string {
  const l = localDate(d, timeZone);
  return `${l.year}-${pad(l.month)}-${pad(l.day)}`;
}

/** "2026-03": the month of `d` in `timeZone` (default UTC). */
export function monthKey(d: Date, timeZone = 'UTC'): string {
  const l = localDate(d, timeZone);
  return `${l.year}-${pad(l.month)}`;
}

/** ISO 8601 week of the calendar day of `d` in `timeZone` (default UTC), e.g. "2026-W09". */
export function isoWeekKey(d: Date, timeZone = 'UTC'): string {
  const l = localDate(d, timeZone);
  const date = new Date(Date.UTC(l.year, l.month - 1, l.day));
  const day = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(date.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((date.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${date.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

export interface PlanOptions {
  /** IANA time zone whose calendar days, ISO weeks and months the GFS buckets follow. Default UTC. */
  timeZone?: string;
}

/** Pure: which backups to keep and which to delete at `now`. */
export function planRetention(backups: readonly PlannedBackup[], rules: RetentionRules, now: Date, options: PlanOptions = {}): RetentionPlan {
  const timeZone = options.timeZone ?? 'UTC';
  assertTimeZone(timeZone);
  const sorted = [...backups].sort((a, b) => b.time.getTime() - a.time.getTime() || b.id.localeCompare(a.id));
  const reasons = new Map<string, KeepReason[]>(sorted.map((b) => [b.id, []]));
  const add = (id: string, reason: KeepReason): void => {
    reasons.get(id)?.push(reason);
  };
  const past = sorted.filter((b) => b.time.getTime() <= now.getTime());
  for (const b of sorted) if (b.time.getTime() > now.getTime()) add(b.id, 'future');
  past.slice(0, Math.max(0, rules.keepLast ?? 0)).forEach((b) => add(b.id, 'last'));
  const buckets: Array<[KeepReason, number, (d: Date, timeZone: string) => string]> = [
    ['daily', rules.keepDaily ?? 0, dayKey],
    ['weekly', rules.keepWeekly ?? 0, isoWeekKey],
    ['monthly', rules.keepMonthly ?? 0, monthKey],
  ];
  for (const [reason, count, keyOf] of buckets) {
    const seen = new Set<string>();
    for (const b of past) {
      if (seen.size >= count) break;
      const key = keyOf(b.time, timeZone);
      if (seen.has(key)) continue;
      seen.add(key);
      add(b.id, reason);
    }
  }
  const newest = past[0];
  if (newest !== undefined && (reasons.get(newest.id)?.length ?? 0) === 0) add(newest.id, 'newest');
  const plan: RetentionPlan = { keep: [], delete: [] };
  for (const b of sorted) {
    const why = reasons.get(b.id) as KeepReason[];
    const tooOld = rules.maxAgeMs !== undefined && now.getTime() - b.time.getTime() > rules.maxAgeMs && b !== newest && !why.includes('future');
    const decision: RetentionDecision = { id: b.id, time: b.time.toISOString(), keep: why.length > 0 && !tooOld, reasons: tooOld ? [] : why };
    if (decision.keep) plan.keep.push(decision);
    else {
      decision.deleteReason = tooOld ? 'maxAge' : 'unselected';
      plan.delete.push(decision);
    }
  }
  return plan;
}

export interface PruneOptions {
  store: ObjectStore;
  database: string;
  /**
   * The policy whose backups are pruned: only backups whose manifest names it (in its own folder) are
   * planned and deleted, never another policy's on the same bucket and prefix. Unset: only backups
   * without an owner (the CLI, and data written before owners existed).
   */
  owner?: BackupOwner;
  /** With an owner: also prune the database's backups without an owner as this policy's own. Default false. */
  adoptUnowned?: boolean;
  rules: RetentionRules;
  /** IANA time zone of the policy's schedule: GFS days, weeks and months follow it. Default UTC. */
  timeZone?: string;
  /**
   * Backup ids the caller needs kept whatever the rules say (a running Restore reads them): they move
   * from the plan's delete list to its keep list with the reason 'protected'; the rest is pruned as planned.
   */
  protect?: ReadonlySet<string>;
  /** Only plan; delete nothing. */
  dryRun?: boolean;
  /** Data objects without a manifest older than this are deleted too (incomplete runs). Default 24 h. */
  orphanGraceMs?: number;
  clock?: Clock;
  logger?: Logger;
}

export interface PruneResult {
  destination: string;
  plan: RetentionPlan;
  deleted: string[];
  /** Backups (or orphans) not deleted because of Object Lock. */
  locked: Array<{ id: string; key: string; message: string }>;
  failed: Array<{ id: string; reason: string; message: string }>;
  orphansDeleted: string[];
}

/** The plan with the protected ids moved from delete to keep (reason 'protected'). */
function protectBackups(plan: RetentionPlan, protect: ReadonlySet<string> | undefined): RetentionPlan {
  if (protect === undefined || protect.size === 0) return plan;
  const spared = plan.delete.filter((d) => protect.has(d.id)).map(({ deleteReason: _gone, ...d }) => ({ ...d, keep: true, reasons: ['protected' as const] }));
  if (spared.length === 0) return plan;
  const byTime = (a: RetentionDecision, b: RetentionDecision): number => b.time.localeCompare(a.time) || b.id.localeCompare(a.id);
  return { keep: [...plan.keep, ...spared].sort(byTime), delete: plan.delete.filter((d) => !protect.has(d.id)) };
}

/** Lists one destination, plans, and deletes: the data object's lock is checked first, then manifest, then data. */
export async function pruneBackups(options: PruneOptions): Promise<PruneResult> {
  const clock = options.clock ?? systemClock;
  const now = clock.now();
  const logger = (options.logger ?? silentLogger).child({ destination: options.store.name, database: options.database });
  const listed = await listBackups(options.store, options.database, {
    ...(options.owner === undefined ? {} : { owner: options.owner }),
    ...(options.adoptUnowned === undefined ? {} : { adoptUnowned: options.adoptUnowned }),
  });
  const byId = new Map(listed.backups.map((b) => [b.id, b]));
  const plan = protectBackups(
    planRetention(listed.backups.map((b) => ({ id: b.id, time: new Date(b.manifest.startedAt) })), options.rules, now, options.timeZone === undefined ? {} : { timeZone: options.timeZone }),
    options.protect,
  );
  const result: PruneResult = { destination: options.store.name, plan, deleted: [], locked: [], failed: [], orphansDeleted: [] };
  if (options.dryRun === true) return result;
  for (const decision of plan.delete) {
    const entry = byId.get(decision.id);
    if (entry === undefined) continue;
    try {
      const info = await options.store.head(entry.dataKey);
      const dataLocked = info !== undefined && (info.legalHold || (info.retainUntil !== undefined && info.retainUntil.getTime() > now.getTime()));
      if (dataLocked) {
        result.locked.push({ id: decision.id, key: entry.dataKey, message: info.legalHold ? 'under legal hold' : `retained until ${info.retainUntil?.toISOString()}` });
        continue;
      }
      const manifestOutcome = await options.store.delete(entry.manifestKey, now);
      if (manifestOutcome.status === 'locked') {
        result.locked.push({ id: decision.id, key: entry.manifestKey, message: manifestOutcome.message });
        continue;
      }
      const dataOutcome = await options.store.delete(entry.dataKey, now);
      if (dataOutcome.status === 'locked') result.locked.push({ id: decision.id, key: entry.dataKey, message: dataOutcome.message });
      else result.deleted.push(decision.id);
    } catch (error) {
      result.failed.push({ id: decision.id, reason: isOperatorError(error) ? error.reason : 'DeleteFailed', message: describeError(error) });
    }
  }
  const grace = options.orphanGraceMs ?? 24 * 3600_000;
  for (const orphan of listed.orphans) {
    if (orphan.lastModified === undefined || now.getTime() - orphan.lastModified.getTime() < grace) continue;
    try {
      const outcome = await options.store.delete(orphan.key, now);
      if (outcome.status === 'locked') result.locked.push({ id: '(incomplete)', key: orphan.key, message: outcome.message });
      else result.orphansDeleted.push(orphan.key);
    } catch (error) {
      result.failed.push({ id: '(incomplete)', reason: isOperatorError(error) ? error.reason : 'DeleteFailed', message: describeError(error) });
    }
  }
  logger.info({ deleted: result.deleted.length, kept: plan.keep.length, locked: result.locked.length, failed: result.failed.length }, 'backups pruned');
  return result;
}
