// What `backup POLICY` and `restore BACKUP` share: create the run object, say so, and with --wait
// follow its phase to Completed or Failed.
import { API_VERSION } from '../../../api/common.ts';
import type { ResourceKind } from '../../../api/crd.ts';
import { isConflict, type KubeObject } from '../../../runtime/kube.ts';
import { EXIT } from '../../io.ts';
import type { BackupResource, RestoreResource } from '../model.ts';
import { progressLine } from '../render.ts';
import { getObject, pathOf, PluginFailure, type Cluster, type PluginIo } from '../session.ts';
import { follow, type Verdict } from '../wait.ts';

type RunResource = BackupResource | RestoreResource;

export interface RunCreation {
  kind: ResourceKind;
  read: (object: KubeObject) => RunResource;
  name: string;
  labels: Record<string, string>;
  spec: object;
  /** What it is made from, for the "created" line ("policy nightly"). */
  origin: string;
  /** The message when the name is taken. */
  conflict: string;
  /** Appended to the timeout message when the object never got a phase. */
  unpickedHint?: string;
}

export interface RunOptions {
  json: boolean | undefined;
  wait: boolean | undefined;
  /** --timeout as given, and in milliseconds. */
  timeout: string;
  limitMs: number;
}

/** Success, failure or the progress line of a Backup or Restore, from its phase. */
export function phaseVerdict(label: string, run: RunResource): Verdict {
  const s = run.status;
  const phase = s.phase || 'Pending';
  const detail = [s.reason, s.message].filter(Boolean).join(': ');
  const what = `${label} ${run.name}`;
  if (phase === 'Completed') return { done: true, ok: true, progress: `${what}: Completed`, result: `${what} completed${detail ? `: ${detail}` : ''}` };
  if (phase === 'Failed') return { done: true, ok: false, progress: `${what}: Failed`, result: `${what} failed${detail ? `: ${detail}` : ''}` };
  const progress = phase === 'Running' ? progressLine(s.progress) : undefined;
  return { done: false, progress: `${what}: ${phase}${progress ? `: ${progress}` : ''}` };
}

export async function createAndFollow(cluster: Cluster, io: PluginIo, options: RunOptions, run: RunCreation): Promise<number> {
  const { kind, name } = run;
  const body = { apiVersion: API_VERSION, kind: kind.kind, metadata: { name, namespace: cluster.namespace, labels: run.labels }, spec: run.spec };
  try {
    await cluster.client.create(pathOf(cluster, kind), body);
  } catch (error) {
    if (isConflict(error)) throw new PluginFailure(run.conflict);
    throw error;
  }
  io.stdout.write(
    options.json
      ? `${JSON.stringify({ created: { kind: kind.kind, namespace: cluster.namespace, name } })}\n`
      : `${kind.singular}.lokdarpan.io/${name} created (${run.origin}, namespace ${cluster.namespace})\n`,
  );
  if (!options.wait) return EXIT.ok;
  return follow(io, {
    limitMs: options.limitMs,
    read: () => getObject(cluster, kind, name),
    judge: (object) => phaseVerdict(kind.singular, run.read(object)),
    onTimeout: (last) => {
      const phase = last === undefined ? undefined : run.read(last).status.phase || undefined;
      const hint = last !== undefined && phase === undefined && run.unpickedHint ? ` (${run.unpickedHint})` : '';
      return `${kind.singular} ${name} is still ${phase ?? 'Pending'} after ${options.timeout}${hint}`;
    },
  });
}
