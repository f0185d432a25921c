// SecretReader over the API server (get only: the ClusterRole grants nothing more on Secrets).
import type { SecretReader } from '../controllers/shared/secrets.ts';
import { decodeSecretData } from '../controllers/shared/secrets.ts';
import { isNotFound, type KubeClient } from '../runtime/kube.ts';

export function kubeSecretReader(client: KubeClient): SecretReader {
  return {
    async read(namespace, name) {
      try {
        const secret = await client.get<{ data?: Record<string, string> }>(`/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`);
        return decodeSecretData(secret);
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
  };
}
