// An S3 destination of a resource spec, with its credentials from a Secret, as an object store.
import type { S3ObjectStore, S3Credentials, S3StoreConfig } from '../../adapters/s3/index.ts';
import type { S3Destination } from '../../api/common.ts';
import { readSecret, requireKey, type SecretReader } from './secrets.ts';

export async function objectStoreFor(destination: S3Destination, secrets: SecretReader, namespace: string): Promise<S3ObjectStore> {
  const data = await readSecret(secrets, namespace, destination.credentialsSecret);
  const what = `credentials of destination ${destination.name}`;
  const sessionToken = data['sessionToken'];
  // Loaded by the first backup, restore or archive, not at start (the AWS SDK is ~30 MB of RSS).
  const { S3ObjectStore } = await import('../../adapters/s3/store.ts');
  return new S3ObjectStore(
    storeOptionsOf(destination, {
      accessKeyId: requireKey(data, destination.credentialsSecret, 'accessKeyId', what),
      secretAccessKey: requireKey(data, destination.credentialsSecret, 'secretAccessKey', what),
      ...(sessionToken ? { sessionToken } : {}),
    }),
  );
}

/** The object-store options of a destination of a resource spec, with its credentials. */
export function storeOptionsOf(destination: S3Destination, credentials: S3Credentials): S3StoreConfig {
  return {
    name: destination.name,
    bucket: destination.bucket,
    prefix: destination.prefix,
    region: destination.region,
    forcePathStyle: destination.forcePathStyle,
    checksums: destination.checksums,
    ...(destination.endpoint ? { endpoint: destination.endpoint } : {}),
    credentials,
  };
}
