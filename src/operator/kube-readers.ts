// The controllers' read ports over the API server: Secrets (get only: the ClusterRole grants nothing
// more on them) and LokdarpanDatabases (for policies that reference one).
import { lokdarpanDatabaseKind } from '../api/resources.ts';
import type { DatabaseReader, DatabaseResource } from '../controllers/shared/database-ref.ts';
import { resourceTypeOf } from '../controllers/shared/resource-controller.ts';
import type { SecretReader } from '../controllers/shared/secrets.ts';
import { decodeSecretData } from '../controllers/shared/secrets.ts';
import { isNotFound, resourcePath, type KubeClient } from '../runtime/kube.ts';

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
      const secret = await getOrUndefined(() => client.get<{ data?: Record<string, string> }>(path));
      return secret && decodeSecretData(secret);
    },
  };
}

export function kubeDatabaseReader(client: KubeClient): DatabaseReader {
  const type = resourceTypeOf(lokdarpanDatabaseKind);
  return {
    get: (namespace, name) => getOrUndefined(() => client.get<DatabaseResource>(resourcePath(type, namespace, name))),
  };
}
