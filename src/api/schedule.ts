// Schedules: a standard 5-field cron expression plus an IANA time zone. Six-field strings (seconds
// first, as some operators read them) are refused at admission, so "0 0 * * * *" can never silently
// mean "every hour" to one tool and "every second" to another.
import * as z from 'zod';
import { Cron } from 'croner';
import { CRON_RULES, cronFieldProblem } from './cron-grammar.ts';

export const TIME_ZONE_RULE = {
  // The API server's CEL has the IANA database: an unknown zone makes getFullYear fail, which rejects the object.
  rule: "self == 'UTC' || timestamp('2000-01-01T00:00:00Z').getFullYear(self) == 2000",
  message: 'must be an IANA time zone name such as UTC, Asia/Kolkata or Europe/Berlin',
};

/**
 * A bounded memo for pure checks that run on every spec parse (each reconcile): a Cron parse or an Intl time
 * zone lookup costs far more than the rest of a suspended resource's reconcile.
 */
function memoized<T>(fn: (key: string) => T, max = 512): (key: string) => T {
  const memo = new Map<string, T>();
  return (key) => {
    if (memo.has(key)) return memo.get(key) as T;
    const value = fn(key);
    if (memo.size >= max) memo.delete(memo.keys().next().value as string);
    memo.set(key, value);
    return value;
  };
}

export const checkCronExpression: (expression: string) => string | undefined = memoized((expression) => {
  const fields = expression.split(' ');
  if (fields.length !== 5 || fields.some((f) => f === '')) {
    return `"${expression}" has ${expression.trim().split(/\s+/).length} fields: write a standard 5-field cron expression (minute hour day-of-month month day-of-week)`;
  }
  const problem = cronFieldProblem(fields);
  if (problem) return `"${expression}": ${problem}`;
  try {
    new Cron(expression, { paused: true, mode: '5-part' });
    return undefined;
  } catch (error) {
    return `"${expression}" is not a valid cron expression: ${(error as Error).message}`;
  }
});

export const isKnownTimeZone: (zone: string) => boolean = memoized((zone) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
});

export const cronSchema = (description: string, defaultValue?: string) => {
  const base = z
    .string()
    .max(128)
    .superRefine((value, ctx) => {
      const problem = checkCronExpression(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .meta({ description, 'x-kubernetes-validations': [...CRON_RULES] });
  return defaultValue === undefined ? base : base.default(defaultValue);
};

export const timeZoneSchema = (description = 'IANA time zone the schedule is read in.') =>
  z
    .string()
    .max(64)
    .refine(isKnownTimeZone, { message: 'unknown time zone: use an IANA name such as UTC or Asia/Kolkata' })
    .default('UTC')
    .meta({ description, 'x-kubernetes-validations': [TIME_ZONE_RULE] });

// A paused Cron is only a parsed pattern: one per schedule serves every nextRun/previousRuns question.
const parsedCron = memoized((key) => {
  const [expression, timeZone] = JSON.parse(key) as [string, string];
  return new Cron(expression, { paused: true, timezone: timeZone, mode: '5-part' });
}, 256);

function cronFor(expression: string, timeZone: string): Cron {
  return parsedCron(JSON.stringify([expression, timeZone]));
}

/** The next time `expression` fires strictly after `after`, in `timeZone`. */
export function nextRun(expression: string, timeZone: string, after: Date): Date {
  const next = cronFor(expression, timeZone).nextRun(after);
  if (!next) throw new Error(`cron expression "${expression}" never fires`);
  return next;
}

/** The most recent time `expression` fired at or before `at`, if any. */
export function previousRun(expression: string, timeZone: string, at: Date): Date | undefined {
  return cronFor(expression, timeZone).previousRuns(1, new Date(at.getTime() + 1_000))[0];
}
