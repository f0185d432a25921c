// `refresh`, `validate` and `retention-run`: ask the operator to act now by setting a request
// annotation to the current time; with --wait, follow the status until it records that request.
import type { ResourceKind } from '../../../api/crd.ts';
import { lokdarpanDatabaseKind, retentionPolicyKind } from '../../../api/resources.ts';
import { REFRESH_REQUEST_ANNOTATION, VALIDATE_REQUEST_ANNOTATION } from '../../../controllers/lokdarpan-database/reconciler.ts';
import { RUN_REQUEST_ANNOTATION } from '../../../controllers/retention-policy/reconciler.ts';
import type { KubeObject } from '../../../runtime/kube.ts';
import { EXIT } from '../../io.ts';
import { COMMON_HELP, commonOptions, oneName, parse, timeoutMs, WAIT_HELP, waitOptions } from '../args.ts';
import { conditionOf, readDatabase, readRetentionPolicy, summariseRetention, type ConditionLike } from '../model.ts';
import { conditionText, retentionCounts } from '../render.ts';
import { connect, getObject, guarded, nowOf, pathOf, type PluginIo } from '../session.ts';
import { follow, type Verdict } from '../wait.ts';

interface AnnotationRequest {
  command: string;
  usage: string;
  kind: ResourceKind;
  annotation: string;
  /** Whether the status shows the request acted on, and how it went. */
  judge: (object: KubeObject, requestedAt: string) => Verdict;
}

async function requestByAnnotation(spec: AnnotationRequest, argv: string[], io: PluginIo): Promise<number> {
  return guarded(spec.command, spec.usage, io, async (session) => {
    const { values, positionals } = parse(argv, { ...commonOptions, ...waitOptions });
    if (values.help) {
      io.stdout.write(spec.usage);
      return EXIT.ok;
    }
    const name = oneName(positionals, spec.kind.kind);
    const limitMs = timeoutMs(values.timeout);
    const cluster = connect(values, io, session);
    await getObject(cluster, spec.kind, name);
    const requestedAt = nowOf(io).toISOString();
    await cluster.client.patch(pathOf(cluster, spec.kind, name), { metadata: { annotations: { [spec.annotation]: requestedAt } } }, 'merge');
    io.stdout.write(
      values.json
        ? `${JSON.stringify({ annotated: { kind: spec.kind.kind, namespace: cluster.namespace, name, annotation: spec.annotation, value: requestedAt } })}\n`
        : `${spec.kind.singular}/${name} annotated ${spec.annotation}=${requestedAt}\n`,
    );
    if (!values.wait) return EXIT.ok;
    return follow(io, {
      limitMs,
      read: () => getObject(cluster, spec.kind, name),
      judge: (object) => spec.judge(object, requestedAt),
      onTimeout: () => `${spec.kind.singular} ${name}: the operator has not acted on the request of ${requestedAt} within ${values.timeout} (is it running, and is the resource Ready?)`,
    });
  });
}

export const REFRESH_USAGE = `usage: lokdarpan refresh NAME [-n NS] [--wait [--timeout 30m]]

Asks the operator to refresh the materialized views of the LokdarpanDatabase NAME now
(REFRESH MATERIALIZED VIEW CONCURRENTLY), whatever its schedule: sets the annotation
${REFRESH_REQUEST_ANNOTATION} to the current time.

${WAIT_HELP}
${COMMON_HELP}
`;

/** How a refresh requested at `requestedAt` went, from the LokdarpanDatabase's status. */
export function refreshVerdict(object: KubeObject, requestedAt: string): Verdict {
  const { status } = readDatabase(object);
  const views = status.views ?? {};
  const fresh = conditionOf(status.conditions, 'ViewsFresh');
  if (views.lastRequest !== requestedAt) return { done: false, progress: `waiting for the refresh (${conditionText(fresh) || 'not refreshed yet'})` };
  const ok = Boolean(views.lastSuccessfulRefreshTime) && views.lastSuccessfulRefreshTime === views.lastRefreshTime;
  return ok
    ? { done: true, ok, result: `views refreshed at ${views.lastRefreshTime}${views.lastDurationMs !== undefined ? ` in ${views.lastDurationMs} ms` : ''}` }
    : { done: true, ok, result: `view refresh failed: ${views.lastError || conditionText(fresh)}` };
}

export async function runRefresh(argv: string[], io: PluginIo): Promise<number> {
  return requestByAnnotation({ command: 'refresh', usage: REFRESH_USAGE, kind: lokdarpanDatabaseKind, annotation: REFRESH_REQUEST_ANNOTATION, judge: refreshVerdict }, argv, io);
}

export const VALIDATE_USAGE = `usage: lokdarpan validate NAME [-n NS] [--wait [--timeout 30m]]

Asks the operator to run the performance validation of the LokdarpanDatabase NAME now: sets the
annotation ${VALIDATE_REQUEST_ANNOTATION} to the current time. With --wait, exit 0 when every
query met its threshold, 1 when one did not (the figures are printed).

${WAIT_HELP}
${COMMON_HELP}
`;

/** How a validation requested at `requestedAt` went, with its figures. */
export function validateVerdict(object: KubeObject, requestedAt: string): Verdict {
  const { status } = readDatabase(object);
  const validation = status.validation ?? {};
  if (validation.lastRequest !== requestedAt) return { done: false, progress: 'waiting for the validation' };
  const healthy = conditionOf(status.conditions, 'PerformanceHealthy');
  const figures = (validation.results ?? []).map(
    (r) => `${r.query || '?'} p95 ${r.p95Ms} ms (limit ${r.thresholdMs} ms) ${r.passed === true ? 'ok' : r.passed === false ? 'OVER' : '?'}`,
  );
  const ok = healthy?.status === 'True';
  return { done: true, ok, result: [`validation ${ok ? 'passed' : 'failed'}: ${conditionText(healthy)}`, ...figures.map((f) => `  ${f}`)].join('\n') };
}

export async function runValidate(argv: string[], io: PluginIo): Promise<number> {
  return requestByAnnotation({ command: 'validate', usage: VALIDATE_USAGE, kind: lokdarpanDatabaseKind, annotation: VALIDATE_REQUEST_ANNOTATION, judge: validateVerdict }, argv, io);
}

export const RETENTION_RUN_USAGE = `usage: lokdarpan retention-run NAME [-n NS] [--wait [--timeout 30m]]

Asks the operator to run the RetentionPolicy NAME now, whatever its schedule: sets the annotation
${RUN_REQUEST_ANNOTATION} to the current time. With --wait, prints the run's counts.

${WAIT_HELP}
${COMMON_HELP}
`;

/** How a retention run requested at `requestedAt` went, with its counts and failed rules. */
export function retentionRunVerdict(object: KubeObject, requestedAt: string): Verdict {
  const policy = readRetentionPolicy(object);
  const ready = conditionOf(policy.status.conditions, 'Ready');
  const stalled = conditionOf(policy.status.conditions, 'Stalled');
  if (policy.status.lastRequest !== requestedAt) {
    // A run that fails before it starts (database missing, bad spec) stalls without recording the request.
    const since = (c: ConditionLike | undefined): boolean => c?.lastTransitionTime !== undefined && Date.parse(c.lastTransitionTime) >= Math.floor(Date.parse(requestedAt) / 1000) * 1000;
    if (stalled?.status === 'True' && since(stalled)) return { done: true, ok: false, result: `retention run failed: ${conditionText(stalled)}` };
    return { done: false, progress: 'waiting for the run' };
  }
  const run = summariseRetention(policy).lastRun;
  const counts = run ? `${retentionCounts(run)}${run.partial ? ' (partial)' : ''}${run.dryRun ? ' (dry run)' : ''}` : '';
  const ok = ready?.status === 'True' && (run?.failedRules.length ?? 0) === 0;
  const failures = run?.failedRules.map((f) => `  FAILED ${f}`) ?? [];
  return { done: true, ok, result: [`retention run ${ok ? 'finished' : 'failed'}: ${counts}${ok ? '' : `; ${conditionText(ready)}`}`, ...failures].join('\n') };
}

export async function runRetentionRun(argv: string[], io: PluginIo): Promise<number> {
  return requestByAnnotation({ command: 'retention-run', usage: RETENTION_RUN_USAGE, kind: retentionPolicyKind, annotation: RUN_REQUEST_ANNOTATION, judge: retentionRunVerdict }, argv, io);
}
