// Which of a BackupPolicy's destinations other policies (of this cluster) also write to: the same
// endpoint, bucket and database folder under an equal or nested prefix. Owners in the key layout keep
// their backups apart, so this is a warning, not a failure; but a policy only adopts (prunes) backups
// without an owner in a destination it is alone on.
import { backupPolicySpecSchema } from '../../api/backup.ts';
import { findOverlappingDestinations, type DestinationRef } from '../../engines/backup/index.ts';

/** What the overlap check needs of a BackupPolicy: its identity, spec and the database its status names. */
export interface PolicyForOverlap {
  metadata: { name: string; namespace?: string | undefined };
  spec?: unknown;
  status?: { database?: string | undefined } | undefined;
}

export interface PolicyOverlaps {
  /** Own destination name -> the other destinations writing there ("ns/policy destination"), sorted. */
  byDestination: Map<string, string[]>;
  /** One line for the condition, or undefined when the policy is alone on all its destinations. */
  message: string | undefined;
}

const refId = (namespace: string, policy: string, destination: string): string => `${namespace}/${policy} ${destination}`;

function refsOf(policy: PolicyForOverlap, database: string | undefined): DestinationRef[] {
  const spec = backupPolicySpecSchema.safeParse(policy.spec);
  if (!spec.success || !database) return [];
  const namespace = policy.metadata.namespace ?? 'default';
  return [spec.data.destination, ...spec.data.replicas].map((d) => ({
    id: refId(namespace, policy.metadata.name, d.name),
    bucket: d.bucket,
    prefix: d.prefix,
    database,
    ...(d.endpoint === undefined ? {} : { endpoint: d.endpoint }),
  }));
}

/**
 * The overlaps of `self` (whose database is `database`, freshly resolved) with every policy in `all`
 * (which may include self; others count with the database their status records, and are skipped
 * until they have one).
 */
export function policyOverlaps(self: PolicyForOverlap, database: string, all: readonly PolicyForOverlap[]): PolicyOverlaps {
  const namespace = self.metadata.namespace ?? 'default';
  const isSelf = (p: PolicyForOverlap): boolean => (p.metadata.namespace ?? 'default') === namespace && p.metadata.name === self.metadata.name;
  const own = refsOf(self, database);
  const refs = [...own, ...all.filter((p) => !isSelf(p)).flatMap((p) => refsOf(p, p.status?.database))];
  const byDestination = new Map<string, string[]>();
  const lines: string[] = [];
  for (const group of findOverlappingDestinations(refs)) {
    for (const ref of own.filter((r) => group.ids.includes(r.id))) {
      const others = group.ids.filter((id) => id !== ref.id);
      const destination = ref.id.slice(refId(namespace, self.metadata.name, '').length);
      byDestination.set(destination, [...new Set([...(byDestination.get(destination) ?? []), ...others])].sort());
      lines.push(`${destination} (${group.location}) is also written by ${others.map((o) => `BackupPolicy ${o}`).join(', ')}`);
    }
  }
  const message = lines.length === 0
    ? undefined
    : `${lines.join('; ')}. Each policy keeps and prunes only its own backups (key folder policies/<cluster>/<namespace>/<name>/); backups written without an owner there are pruned by none. Give each policy its own prefix unless the sharing is intended.`;
  return { byDestination, message };
}

/** What in a policy decides its overlaps: a change here may change other policies' reports. */
export function overlapFingerprint(policy: PolicyForOverlap | undefined): string {
  if (policy === undefined) return '';
  return JSON.stringify(refsOf(policy, policy.status?.database));
}
