// Reasons of the controller runtime and the generic fallbacks of the reconcilers.
import { reasonNames, type ReasonCatalog } from '../reasons/catalog.ts';

export const RuntimeReasonCatalog = {
  ReconcileFailed: 'An unexpected error without a more specific reason; retried with backoff. Read the message and the operator log; report it if it persists.',
  ReconcileTimeout: "A reconcile ran longer than the controller's timeout and was aborted. Usually a hung database or S3 connection; check them.",
  InternalError: 'A non-operator error (a bug) escaped a reconcile (log only; counted in `controller_runtime_reconcile_panics_total`). Report it with the log line.',
  LeaderElectionLost: "This replica lost the leader Lease; its in-flight work was aborted, it writes nothing more and exits (another replica takes over). Nothing, unless it repeats: check the API server's latency and the Pod's CPU.",
  StatusConflict: 'The status or spec changed since the reconcile read it (log only): the status is never written over what the operator did not read; the reconcile is requeued and computes it again. Nothing, unless it repeats (two operators?).',
  FinalizerConflict: 'The finalizers kept changing while being written (log only). As StatusConflict.',
  ControllerStopping: 'The operator is shutting down and a reconcile did not finish within the grace period; it was aborted (log only). Nothing: the next leader reconciles the resource again.',
  Idle: 'Reconciling / Stalled False: nothing in progress, nothing stalled.',
} as const satisfies ReasonCatalog;

export const RuntimeReasons = reasonNames(RuntimeReasonCatalog);
