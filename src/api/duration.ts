// The one duration grammar of the API: a whole number and one unit, e.g. "500ms", "30s", "15m", "12h",
// "90d", "4w", "1y" (365 days). Nothing fancier, so that every value reads the same everywhere.
import * as z from 'zod';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 } as const;
export const DURATION_PATTERN = '^[0-9]{1,9}(ms|s|m|h|d|w|y)$';
const durationRe = new RegExp(DURATION_PATTERN);

export function parseDuration(text: string): number {
  const match = /^([0-9]{1,9})(ms|s|m|h|d|w|y)$/.exec(text);
  if (!match) {
    throw new Error(`"${text}" is not a duration: write a whole number and one unit of ms, s, m, h, d, w, y (for example 30s, 15m, 90d)`);
  }
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

export function formatDuration(ms: number): string {
  for (const unit of ['y', 'w', 'd', 'h', 'm', 's'] as const) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

/** A zod schema for a duration string; the CRD gets the same pattern, so the API server rejects bad ones. */
export function durationSchema(description: string) {
  return z
    .string()
    .max(12)
    .regex(durationRe, { message: 'a duration is a whole number and one unit of ms, s, m, h, d, w, y (for example 30s, 15m, 90d)' })
    .describe(description);
}
