// When scheduled work is due. One rule for every kind: someone asked for it now (a run-now annotation
// whose value differs from the one last acted on), or its next scheduled time has come. Work with
// nothing scheduled yet either runs at once (a database's view refresh and validation) or waits for its
// first slot (a retention run, a restore drill): `unscheduled` says which.
export interface DueInput {
  /** The next scheduled time status recorded; undefined when nothing is scheduled yet. */
  next: string | undefined;
  /** What to do when nothing is scheduled yet. */
  unscheduled: 'run-now' | 'wait';
  /** The run-now annotation's current value. */
  request?: string | undefined;
  /** The annotation value the last run acted on. */
  lastRequest?: string | undefined;
}

export function isDue(input: DueInput, now: Date): boolean {
  if (input.request !== undefined && input.request !== input.lastRequest) return true;
  if (input.next === undefined) return input.unscheduled === 'run-now';
  return new Date(input.next).getTime() <= now.getTime();
}

/** Milliseconds from now until the earliest of the given times (at least 1 s); undefined when none. */
export function msUntilEarliest(times: ReadonlyArray<string | undefined>, now: Date): number | undefined {
  const ms = times.filter((t): t is string => t !== undefined).map((t) => new Date(t).getTime());
  if (ms.length === 0) return undefined;
  return Math.max(1_000, Math.min(...ms) - now.getTime());
}
