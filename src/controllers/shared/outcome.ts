// What every reconciler builds: a new status (observedGeneration, conditions), the events to record and
// when to come back. A reconciler starts one Outcome from the object it read and keeps only its own
// decisions; the shapes every kind shares (the Ready/Reconciling/Stalled health triple, an invalid spec,
// a failure from any error, a run that failed) are written here once.
import type { z } from 'zod';
import { OperatorError, describeError, isOperatorError } from '../../errors.ts';
import type { Reason } from '../../reasons/index.ts';
import { setConditions, type Condition, type ConditionInput } from '../../runtime/conditions.ts';
import type { EventToRecord, ReconcileOutcome } from './resource-controller.ts';

/** The status fields every kind has. */
export interface StatusBase {
  observedGeneration?: number | undefined;
  conditions?: unknown[] | undefined;
}

/** The status fields of a run (a Backup, a Restore): it ends Completed or Failed. */
export interface RunStatusBase extends StatusBase {
  phase?: string | undefined;
  reason?: string | undefined;
  message?: string | undefined;
  completionTime?: string | undefined;
}

interface ReadObject<S> {
  metadata: { generation?: number | undefined };
  status?: S | undefined;
}

export class Outcome<S extends StatusBase> {
  /** The status being built: the object's, with this generation observed. Steps replace it freely. */
  status: S;
  readonly events: EventToRecord[] = [];
  readonly now: Date;
  readonly generation: number | undefined;

  constructor(object: ReadObject<S>, now: Date) {
    this.now = now;
    this.generation = object.metadata.generation;
    this.status = { ...(object.status ?? ({} as S)), observedGeneration: this.generation };
  }

  /** Sets conditions for this generation; lastTransitionTime moves only when a status changes. */
  set(...inputs: ConditionInput[]): void {
    this.status = { ...this.status, conditions: setConditions(this.conditions, inputs, this.generation, this.now) };
  }

  get conditions(): Condition[] | undefined {
    return this.status.conditions as Condition[] | undefined;
  }

  condition(type: string): Condition | undefined {
    return this.conditions?.find((c) => c.type === type);
  }

  normal(reason: Reason, action: string, note: string): void {
    this.events.push({ type: 'Normal', reason, action, note });
  }

  warn(reason: Reason, action: string, note: string): void {
    this.events.push({ type: 'Warning', reason, action, note });
  }

  /** Reconciling and Stalled False: nothing in progress, nothing for a person to do. */
  idle(): void {
    this.set(...idleConditions());
  }

  /** Ready False and the triple at rest with the same reason: nothing runs by choice (spec.suspend). */
  suspended(reason: Reason, message: string): ReconcileOutcome<S> {
    this.set(
      { type: 'Ready', status: 'False', reason, message },
      { type: 'Reconciling', status: 'False', reason, message },
      { type: 'Stalled', status: 'False', reason, message },
    );
    return this.done();
  }

  /** Retrying cannot help: Ready False, Stalled True, a Warning event. No error: nothing is retried. */
  stall(reason: Reason, message: string, action = 'Validate'): ReconcileOutcome<S> {
    this.set(...stalledConditions(reason, message));
    this.warn(reason, action, message);
    return this.done();
  }

  /** The spec fails the operator's schema: stalled until a person fixes it. */
  invalidSpec(error: z.ZodError): ReconcileOutcome<S> {
    return this.stall('InvalidSpec', invalidSpecMessage(error));
  }

  /** The spec parsed by the kind's schema, or undefined after reporting it invalid (then return `done()`). */
  parseSpec<T>(schema: z.ZodType<T>, spec: unknown): T | undefined {
    const parsed = schema.safeParse(spec);
    if (parsed.success) return parsed.data;
    this.invalidSpec(parsed.error);
    return undefined;
  }

  /**
   * The reconcile failed: a terminal error stalls (unless the reconcile was aborted: a timeout or lost
   * leadership is retried), any other is retried with backoff (Reconciling True). The outcome carries the
   * error, so the controller retries or not.
   */
  failed(error: OperatorError, action: string, aborted = false): ReconcileOutcome<S> {
    if (error.terminal && !aborted) this.set(...stalledConditions(error.reason, error.message));
    else {
      this.set(
        { type: 'Ready', status: 'False', reason: error.reason, message: error.message },
        { type: 'Reconciling', status: 'True', reason: error.reason, message: `retrying with backoff: ${error.message}` },
        { type: 'Stalled', status: 'False', reason: error.reason, message: 'retrying' },
      );
    }
    this.warn(error.reason, action, error.message);
    return { ...this.done(), error };
  }

  /** The outcome; requeueAfterMs only when there is one. */
  done(requeueAfterMs?: number): ReconcileOutcome<S> {
    return requeueAfterMs === undefined ? { status: this.status, events: this.events } : { status: this.status, events: this.events, requeueAfterMs };
  }
}

/** Ends a run (Backup, Restore) Failed: phase, reason, message and completion time, Ready and Succeeded False, a Warning event. */
export function failRun<S extends RunStatusBase>(outcome: Outcome<S>, reason: Reason, message: string, action: string, completionTime: Date): ReconcileOutcome<S> {
  outcome.status = { ...outcome.status, phase: 'Failed', reason, message, completionTime: completionTime.toISOString() };
  outcome.set({ type: 'Ready', status: 'False', reason, message }, { type: 'Succeeded', status: 'False', reason, message });
  outcome.warn(reason, action, message);
  return outcome.done();
}

export function idleConditions(): ConditionInput[] {
  return [
    { type: 'Reconciling', status: 'False', reason: 'Idle', message: 'nothing in progress' },
    { type: 'Stalled', status: 'False', reason: 'Idle', message: 'not stalled' },
  ];
}

function stalledConditions(reason: Reason, message: string): ConditionInput[] {
  return [
    { type: 'Ready', status: 'False', reason, message },
    { type: 'Reconciling', status: 'False', reason, message: 'a person must act; see Ready' },
    { type: 'Stalled', status: 'True', reason, message },
  ];
}

/** Any thrown value as an OperatorError: itself when it is one, else `fallback` with its message (never a stack). */
export function operatorErrorOf(error: unknown, fallback: Reason): OperatorError {
  return isOperatorError(error) ? error : new OperatorError(fallback, describeError(error), { cause: error });
}

/** One line naming every failing field: `<prefix>: spec.a.b: message; ...`. */
export function invalidSpecMessage(error: z.ZodError, prefix = 'spec is invalid'): string {
  return `${prefix}: ${error.issues.map((i) => `${i.path.join('.') || 'spec'}: ${i.message}`).join('; ')}`;
}

/** The soonest of several requeue delays; undefined when none is given. */
export function earliestRequeue(...delays: ReadonlyArray<number | undefined>): number | undefined {
  const given = delays.filter((d): d is number => d !== undefined);
  return given.length === 0 ? undefined : Math.min(...given);
}
