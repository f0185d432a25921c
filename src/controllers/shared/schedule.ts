// When scheduled work is due: never done, its scheduled time has come, or someone asked for it now
// with an annotation whose value differs from the one last acted on.
export function isDue(next: string | undefined, last: string | undefined, requested: string | undefined, lastRequest: string | undefined, now: Date): boolean {
  if (requested !== undefined && requested !== lastRequest) return true;
  if (last === undefined || next === undefined) return true;
  return new Date(next).getTime() <= now.getTime();
}

/** Milliseconds from now until the earliest of the given times (at least 1 s); undefined when none. */
export function msUntilEarliest(times: ReadonlyArray<string | undefined>, now: Date): number | undefined {
  const ms = times.filter((t): t is string => t !== undefined).map((t) => new Date(t).getTime());
  if (ms.length === 0) return undefined;
  return Math.max(1_000, Math.min(...ms) - now.getTime());
}
