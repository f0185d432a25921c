// Prometheus metrics: one prom-client Registry per operator process holding controller-runtime's
// controller and workqueue metrics (same names and labels users' dashboards know), leader election
// status, process metrics, and a factory for domain metrics registered in the same registry.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WorkqueueMetrics } from '../runtime/workqueue.ts';
import type { KubeRequestMetrics } from '../runtime/kube.ts';

/** controller-runtime's reconcile time buckets (seconds). */
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5,
  1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
/**
 * Workqueue wait and work time buckets (seconds): 1-2-5 in each decade from 1 ms to 10 s, then 20, 30
 * and 60 s. client-go's powers of ten (10^-8 .. 10^1) leave one bucket per decade where keys actually
 * wait, too coarse to read a p99 under 1 s; here neighbouring bounds are at most 2.5x apart. 1 s and 5 s
 * are bounds: the bench's share of waits under 1 s and the LokdarpanWorkqueueSlow alert's p99 > 5 s.
 */
export const WORKQUEUE_BUCKETS: readonly number[] = [
  0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60,
];

export type ReconcileResultLabel = 'success' | 'error' | 'requeue' | 'requeue_after';

export interface MetricOptions<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
}

export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  buckets?: number[];
}

export interface OperatorMetrics {
  readonly registry: Registry;
  readonly reconcileTotal: Counter<'controller' | 'result'>;
  readonly reconcileErrorsTotal: Counter<'controller'>;
  readonly terminalReconcileErrorsTotal: Counter<'controller'>;
  readonly reconcilePanicsTotal: Counter<'controller'>;
  readonly reconcileTimeSeconds: Histogram<'controller'>;
  readonly activeWorkers: Gauge<'controller'>;
  readonly maxConcurrentReconciles: Gauge<'controller'>;
  readonly workqueueDepth: Gauge<'name' | 'controller'>;
  readonly workqueueAddsTotal: Counter<'name' | 'controller'>;
  readonly workqueueQueueDurationSeconds: Histogram<'name' | 'controller'>;
  readonly workqueueWorkDurationSeconds: Histogram<'name' | 'controller'>;
  readonly workqueueRetriesTotal: Counter<'name' | 'controller'>;
  /** 1 while this replica holds the lease `name`, else 0 (client-go's leader_election_master_status). */
  readonly leaderElectionMasterStatus: Gauge<'name'>;
  /** Kubernetes API requests by HTTP method, resource (and subresource) and status code (`<error>`: no response). */
  readonly kubeRequestsTotal: Counter<'method' | 'resource' | 'code'>;
  /** client-go's rest_client_rate_limiter_duration_seconds: time requests waited for the client-side rate limiter. */
  readonly kubeRateLimiterSeconds: Histogram;
  /** Workqueue hooks labelled with one controller's name. */
  workqueueMetricsFor(controller: string): WorkqueueMetrics;
  /** The Kubernetes client's request hooks. */
  kubeRequestMetrics(): KubeRequestMetrics;
  /** A domain counter in this registry (the same object if `name` is registered already). */
  counter<L extends string>(options: MetricOptions<L>): Counter<L>;
  gauge<L extends string>(options: MetricOptions<L>): Gauge<L>;
  histogram<L extends string>(options: HistogramOptions<L>): Histogram<L>;
}

export interface CreateMetricsOptions {
  /** Also collect process_* and nodejs_* metrics (RSS, event loop lag, GC). Default true. */
  defaultMetrics?: boolean;
}

/** A registry with every runtime metric registered. Tests create their own; the operator uses `defaultOperatorMetrics()`. */
export function createOperatorMetrics(registry = new Registry(), options: CreateMetricsOptions = {}): OperatorMetrics {
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const wqLabels = ['name', 'controller'] as const;

  const counter = <L extends string>(o: MetricOptions<L>): Counter<L> => {
    const existing = registry.getSingleMetric(o.name);
    if (existing) {
      if (!(existing instanceof Counter)) throw new Error(`metric ${o.name} is registered with another type`);
      return existing as Counter<L>;
    }
    return new Counter<L>({ name: o.name, help: o.help, labelNames: o.labelNames ?? [], registers });
  };
  const gauge = <L extends string>(o: MetricOptions<L>): Gauge<L> => {
    const existing = registry.getSingleMetric(o.name);
    if (existing) {
      if (!(existing instanceof Gauge)) throw new Error(`metric ${o.name} is registered with another type`);
      return existing as Gauge<L>;
    }
    return new Gauge<L>({ name: o.name, help: o.help, labelNames: o.labelNames ?? [], registers });
  };
  const histogram = <L extends string>(o: HistogramOptions<L>): Histogram<L> => {
    const existing = registry.getSingleMetric(o.name);
    if (existing) {
      if (!(existing instanceof Histogram)) throw new Error(`metric ${o.name} is registered with another type`);
      return existing as Histogram<L>;
    }
    return new Histogram<L>({
      name: o.name,
      help: o.help,
      labelNames: o.labelNames ?? [],
      ...(o.buckets ? { buckets: o.buckets } : {}),
      registers,
    });
  };

  const m = {
    registry,
    reconcileTotal: counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'] as const,
    }),
    reconcileErrorsTotal: counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'] as const,
    }),
    terminalReconcileErrorsTotal: counter({
      name: 'controller_runtime_terminal_reconcile_errors_total',
      help: 'Total number of terminal reconciliation errors per controller',
      labelNames: ['controller'] as const,
    }),
    reconcilePanicsTotal: counter({
      name: 'controller_runtime_reconcile_panics_total',
      help: 'Total number of reconciliations that threw a non-Error value or crashed unexpectedly per controller',
      labelNames: ['controller'] as const,
    }),
    reconcileTimeSeconds: histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'] as const,
      buckets: RECONCILE_BUCKETS,
    }),
    activeWorkers: gauge({
      name: 'controller_runtime_active_workers',
      help: 'Number of currently used workers per controller',
      labelNames: ['controller'] as const,
    }),
    maxConcurrentReconciles: gauge({
      name: 'controller_runtime_max_concurrent_reconciles',
      help: 'Maximum number of concurrent reconciles per controller',
      labelNames: ['controller'] as const,
    }),
    workqueueDepth: gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: wqLabels }),
    workqueueAddsTotal: counter({
      name: 'workqueue_adds_total',
      help: 'Total number of adds handled by workqueue',
      labelNames: wqLabels,
    }),
    workqueueQueueDurationSeconds: histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested',
      labelNames: wqLabels,
      buckets: [...WORKQUEUE_BUCKETS],
    }),
    workqueueWorkDurationSeconds: histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes',
      labelNames: wqLabels,
      buckets: [...WORKQUEUE_BUCKETS],
    }),
    workqueueRetriesTotal: counter({
      name: 'workqueue_retries_total',
      help: 'Total number of retries handled by workqueue',
      labelNames: wqLabels,
    }),
    kubeRequestsTotal: counter({
      name: 'rest_client_requests_total',
      help: 'Number of Kubernetes API requests, partitioned by HTTP method, resource and status code',
      labelNames: ['method', 'resource', 'code'] as const,
    }),
    kubeRateLimiterSeconds: histogram({
      name: 'rest_client_rate_limiter_duration_seconds',
      help: 'Client side rate limiter latency in seconds',
      buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60],
    }),
    leaderElectionMasterStatus: gauge({
      name: 'leader_election_master_status',
      help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master',
      labelNames: ['name'] as const,
    }),
  };

  const workqueueMetricsFor = (controller: string): WorkqueueMetrics => {
    const labels = { name: controller, controller };
    // Touch the series so they exist (at zero) before the first event, as client-go does.
    m.workqueueAddsTotal.inc(labels, 0);
    m.workqueueRetriesTotal.inc(labels, 0);
    m.workqueueDepth.set(labels, 0);
    return {
      add: () => m.workqueueAddsTotal.inc(labels),
      depth: (n) => m.workqueueDepth.set(labels, n),
      queueDuration: (s) => m.workqueueQueueDurationSeconds.observe(labels, s),
      workDuration: (s) => m.workqueueWorkDurationSeconds.observe(labels, s),
      retry: () => m.workqueueRetriesTotal.inc(labels),
    };
  };

  const kubeRequestMetrics = (): KubeRequestMetrics => ({
    requested: (method, resource, code) => m.kubeRequestsTotal.inc({ method, resource, code }),
    rateLimited: (waitMs) => m.kubeRateLimiterSeconds.observe(waitMs / 1000),
  });

  return { ...m, workqueueMetricsFor, kubeRequestMetrics, counter, gauge, histogram };
}

let processMetrics: OperatorMetrics | undefined;

/** The process-wide registry and metrics the operator serves on /metrics (created on first use). */
export function defaultOperatorMetrics(): OperatorMetrics {
  processMetrics ??= createOperatorMetrics();
  return processMetrics;
}
