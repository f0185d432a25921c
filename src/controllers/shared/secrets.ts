// Reading Secrets for the controllers: a port (so reconcilers can be unit-tested) and the typed errors
// a missing Secret or key becomes. Values are never logged or copied into status.
import { OperatorError } from '../../errors.ts';
import { SECRET_REASONS } from './reasons.ts';

export { SECRET_REASONS } from './reasons.ts';

/** Reads the decoded data of a Secret; undefined when it does not exist. */
export interface SecretReader {
  read(namespace: string, name: string): Promise<Record<string, string> | undefined>;
}

export async function readSecret(reader: SecretReader, namespace: string, name: string): Promise<Record<string, string>> {
  const data = await reader.read(namespace, name);
  if (data === undefined) {
    throw new OperatorError(SECRET_REASONS.SecretNotFound, `Secret ${namespace}/${name} not found`, { details: { secret: name } });
  }
  return data;
}

export function requireKey(data: Record<string, string>, secretName: string, key: string, what: string): string {
  const value = data[key];
  if (value === undefined || value === '') {
    throw new OperatorError(SECRET_REASONS.SecretKeyMissing, `Secret ${secretName} has no key "${key}" (${what})`, { details: { secret: secretName, key } });
  }
  return value;
}

/** Decodes a Secret's base64 `data` (and plain `stringData`, which only appears on unapplied manifests). */
export function decodeSecretData(secret: { data?: Record<string, string>; stringData?: Record<string, string> }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(secret.data ?? {})) out[key] = Buffer.from(value, 'base64').toString('utf8');
  for (const [key, value] of Object.entries(secret.stringData ?? {})) out[key] = value;
  return out;
}
