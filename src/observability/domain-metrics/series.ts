// What every kind's recorder shares: the label shapes, reading times and schedules from status, and
// removing a deleted resource's series.
import type { Gauge } from 'prom-client';
import { nextRun } from '../../api/schedule.ts';

/** A LokdarpanDatabase: its namespace and name. */
export interface DatabaseLabels {
  namespace: string;
  name: string;
}

/** A BackupPolicy or RetentionPolicy: its namespace and name. */
export interface PolicyLabels {
  namespace: string;
  policy: string;
}

/** A cron schedule as the resources write it. */
export interface ScheduleSpec {
  schedule: string;
  timeZone?: string | undefined;
}

export interface ConditionSnapshot {
  type: string;
  status: string;
  reason?: string | undefined;
}

export const databaseLabels = (db: DatabaseLabels) => ({ namespace: db.namespace, name: db.name });
export const policyLabels = (p: PolicyLabels) => ({ namespace: p.namespace, policy: p.policy });

export const bool = (value: boolean): number => (value ? 1 : 0);

export function conditionIs(conditions: readonly ConditionSnapshot[] | undefined, type: string): boolean | undefined {
  const condition = conditions?.find((c) => c.type === type);
  if (!condition) return undefined;
  return condition.status === 'True';
}

/** Seconds since the epoch of an RFC 3339 time, or undefined when missing or unreadable. */
export function timestampSeconds(time: string | undefined): number | undefined {
  if (time === undefined || time === '') return undefined;
  const ms = Date.parse(time);
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}

const WINDOW_MS = 8 * 24 * 3600 * 1000;
const MAX_RUNS = 1000;

/**
 * The longest gap, in seconds, between consecutive runs of a cron schedule, looking ahead from
 * `from` for at least eight days and three runs (at most 1000 runs). The longest gap, not the
 * average: "0 2 * * 1-5" gives 3 days (Friday to Monday), so a "no backup within 1.5x the interval"
 * alert never fires on a quiet weekend. Undefined when the schedule cannot be read.
 */
export function expectedIntervalSeconds(schedule: string, timeZone = 'UTC', from: Date = new Date()): number | undefined {
  // Hundreds of cron steps: computed once per schedule and hour, not on every status recorded.
  const key = JSON.stringify([schedule, timeZone, Math.floor(from.getTime() / 3_600_000)]);
  if (intervalMemo.has(key)) return intervalMemo.get(key);
  const seconds = longestGapSeconds(schedule, timeZone, from);
  if (intervalMemo.size >= 256) intervalMemo.delete(intervalMemo.keys().next().value as string);
  intervalMemo.set(key, seconds);
  return seconds;
}

const intervalMemo = new Map<string, number | undefined>();

function longestGapSeconds(schedule: string, timeZone: string, from: Date): number | undefined {
  let previous: Date;
  try {
    previous = nextRun(schedule, timeZone, from);
  } catch {
    return undefined;
  }
  let longest = 0;
  for (let runs = 1; runs < MAX_RUNS; runs++) {
    let next: Date;
    try {
      next = nextRun(schedule, timeZone, previous);
    } catch {
      break;
    }
    longest = Math.max(longest, next.getTime() - previous.getTime());
    previous = next;
    if (runs >= 3 && previous.getTime() - from.getTime() >= WINDOW_MS) break;
  }
  return longest > 0 ? longest / 1000 : undefined;
}

/** Sets `gauge` to the time in seconds; a missing or unreadable time leaves it as it is. */
export function setTimestamp<L extends string>(gauge: Gauge<L>, labels: Partial<Record<L, string>>, time: string | undefined): void {
  const seconds = timestampSeconds(time);
  if (seconds !== undefined) gauge.set(labels, seconds);
}

/** Sets `gauge` to the schedule's longest gap; no schedule or suspended: 0. */
export function setExpectedInterval<L extends string>(gauge: Gauge<L>, labels: Partial<Record<L, string>>, schedule: ScheduleSpec | undefined, suspended: boolean, now: Date): void {
  if (!schedule || suspended) {
    gauge.set(labels, 0);
    return;
  }
  const seconds = expectedIntervalSeconds(schedule.schedule, schedule.timeZone ?? 'UTC', now);
  if (seconds !== undefined) gauge.set(labels, seconds);
}

/** What forgetting needs of a metric object (a Counter, Gauge or Histogram of any labels). */
interface SeriesHolder {
  get(): Promise<{ values: ReadonlyArray<{ labels: Partial<Record<string, string | number>> }> }>;
  remove(labels: Record<string, string | number>): void;
}

/** Remove every series of the group's metrics whose labels include all of `match` (a histogram's buckets with it). */
export async function forgetSeries<G extends object>(metrics: { readonly [K in keyof G]: SeriesHolder }, group: G, match: Record<string, string>): Promise<void> {
  for (const key of Object.keys(group) as Array<keyof G>) {
    const metric = metrics[key];
    const { values } = await metric.get();
    const seen = new Set<string>();
    for (const value of values) {
      const labels: Record<string, string | number> = {};
      for (const [k, v] of Object.entries(value.labels)) if (k !== 'le' && v !== undefined) labels[k] = v;
      if (!Object.entries(match).every(([k, v]) => labels[k] === v)) continue;
      const key = JSON.stringify(Object.entries(labels).sort());
      if (seen.has(key)) continue;
      seen.add(key);
      metric.remove(labels);
    }
  }
}
