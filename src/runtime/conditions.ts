// Pure helpers for metav1.Condition lists: keyed by type, lastTransitionTime changes only when status
// changes, observedGeneration on every condition. kstatus readers look for Ready, Reconciling, Stalled.
import { rfc3339 } from './kube.ts';
import type { Reason } from '../reasons/index.ts';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  /** CamelCase; the operator writes only reasons of its catalogs (ConditionInput), but a read condition may carry any. */
  reason: string;
  /** One human-readable line; never a secret. */
  message: string;
  observedGeneration?: number;
  /** RFC 3339, seconds precision. */
  lastTransitionTime: string;
}

export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: Reason;
  message?: string;
}

/** Kubernetes caps a condition message at 32768 bytes; we keep them far shorter. */
const MAX_MESSAGE = 1024;

/**
 * Returns a new list with the condition set. lastTransitionTime is `now` when the type is new or its
 * status changed, else kept; reason, message and observedGeneration are always updated.
 */
export function setCondition(
  list: readonly Condition[] | undefined,
  input: ConditionInput,
  generation: number | undefined,
  now: Date,
): Condition[] {
  const current = list ?? [];
  const existing = current.find((c) => c.type === input.type);
  const message = (input.message ?? '').replace(/\s*\n\s*/g, ' ').slice(0, MAX_MESSAGE);
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message,
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    lastTransitionTime:
      existing && existing.status === input.status ? existing.lastTransitionTime : rfc3339(now),
  };
  if (!existing) return [...current, next];
  return current.map((c) => (c.type === input.type ? next : c));
}

/** Sets several conditions at once (same generation and time). */
export function setConditions(
  list: readonly Condition[] | undefined,
  inputs: readonly ConditionInput[],
  generation: number | undefined,
  now: Date,
): Condition[] {
  let result = [...(list ?? [])];
  for (const input of inputs) result = setCondition(result, input, generation, now);
  return result;
}

export function getCondition(list: readonly Condition[] | undefined, type: string): Condition | undefined {
  return list?.find((c) => c.type === type);
}

export function isConditionTrue(list: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(list, type)?.status === 'True';
}

export function removeCondition(list: readonly Condition[] | undefined, type: string): Condition[] {
  return (list ?? []).filter((c) => c.type !== type);
}
