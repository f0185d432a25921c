// The controllers' read ports over the API server: Secrets (get only: the ClusterRole grants nothing
// more on them), LokdarpanDatabases (for policies that reference one) and the current copy of objects
// whose cached one may lag (Backups, Restores, RetentionPolicies).
import { backupKind, backupPolicyKind, lokdarpanDatabaseKind, restoreKind, retentionPolicyKind } from '../api/resources.ts';
import type { ResourceKind } from '../api/crd.ts';
import type { BackupResource, PolicyReader, PolicyResource } from '../controllers/backup/reconciler.ts';
import type { BackupObjects, RestoreObjects } from '../controllers/backup/policy-reconciler.ts';
import type { BackupReader, RestoreResource } from '../controllers/backup/restore-reconciler.ts';
import type { RetentionPolicyResource } from '../controllers/retention-policy/reconciler.ts';
import type { DatabaseReader, DatabaseResource } from '../controllers/shared/database-ref.ts';
import { resourceTypeOf } from '../controllers/shared/resource-controller.ts';
import type { SecretReader } from '../controllers/shared/secrets.ts';
import { decodeSecretData, SECRET_REASONS } from '../controllers/shared/secrets.ts';
import { OperatorError } from '../errors.ts';
import { apiErrorMessage, apiStatusCode, isNotFound, resourcePath, type KubeClient } from '../runtime/kube.ts';

async function getOrUndefined<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export function kubeSecretReader(client: KubeClient): SecretReader {
  return {
    async read(namespace, name) {
      const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`;
      try {
        const secret = await getOrUndefined(() => client.get<{ data?: Record<string, string> }>(path));
        return secret && decodeSecretData(secret);
      } catch (error) {
        // One readable line (the API server's Status message) instead of the client's whole HTTP dump.
        const reason = apiStatusCode(error) === 403 ? SECRET_REASONS.SecretAccessDenied : SECRET_REASONS.SecretReadFailed;
        throw new OperatorError(reason, `reading Secret ${namespace}/${name} failed: ${apiErrorMessage(error)}`, { cause: error, details: { secret: name } });
      }
    },
  };
}

/** GETs one object of `kind` from the API server (never a cache); undefined when it does not exist. */
interface ObjectReader<T> {
  get(namespace: string, name: string): Promise<T | undefined>;
}

function objectReader<T>(client: KubeClient, kind: ResourceKind): ObjectReader<T> {
  const type = resourceTypeOf(kind);
  return { get: (namespace, name) => getOrUndefined(() => client.get<T>(resourcePath(type, namespace, name))) };
}

export function kubeDatabaseReader(client: KubeClient): DatabaseReader {
  return objectReader<DatabaseResource>(client, lokdarpanDatabaseKind);
}

export function kubePolicyReader(client: KubeClient): PolicyReader {
  return objectReader<PolicyResource>(client, backupPolicyKind);
}

export function kubeBackupReader(client: KubeClient): BackupReader {
  return objectReader<BackupResource>(client, backupKind);
}

export function kubeRetentionPolicyReader(client: KubeClient): ObjectReader<RetentionPolicyResource> {
  return objectReader<RetentionPolicyResource>(client, retentionPolicyKind);
}

/** Creates an object; false when one of that name exists already. */
async function createUnlessExists(client: KubeClient, path: string, object: object): Promise<boolean> {
  try {
    await client.create(path, object);
    return true;
  } catch (error) {
    if (apiStatusCode(error) === 409) return false;
    throw error;
  }
}

async function deleteIfExists(client: KubeClient, path: string): Promise<void> {
  try {
    await client.delete(path);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

export function kubeBackupObjects(client: KubeClient): BackupObjects {
  const type = resourceTypeOf(backupKind);
  return {
    async list(namespace, policy) {
      // On-demand Backups carry no label, so the policy reference is what counts.
      const list = await client.listAll<BackupResource>(resourcePath(type, namespace));
      return list.items.filter((b) => b.spec?.policyRef?.name === policy);
    },
    create: (backup) => createUnlessExists(client, resourcePath(type, backup.metadata.namespace), backup),
    delete: (namespace, name) => deleteIfExists(client, resourcePath(type, namespace, name)),
  };
}

export function kubeRestoreObjects(client: KubeClient): RestoreObjects {
  const type = resourceTypeOf(restoreKind);
  return {
    list: async (namespace) => (await client.listAll<RestoreResource>(resourcePath(type, namespace))).items,
    create: (restore) => createUnlessExists(client, resourcePath(type, restore.metadata.namespace), restore),
    delete: (namespace, name) => deleteIfExists(client, resourcePath(type, namespace, name)),
  };
}

/** Reads a Restore straight from the API server (the informer's copy may lag). */
export function kubeRestoreReader(client: KubeClient): ObjectReader<RestoreResource> {
  return objectReader<RestoreResource>(client, restoreKind);
}
