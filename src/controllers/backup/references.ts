// Checks that what a backup resource names exists (the LokdarpanDatabase, Secrets and their keys) when it
// is applied, so a wrong name says so at once instead of at the first scheduled run. Only presence is
// checked; values stay inside the Secret readers and never reach a message.
import type { BackupPolicySpec } from '../../api/backup.ts';
import type { S3Destination } from '../../api/common.ts';
import { isOperatorError, type OperatorError } from '../../errors.ts';
import { resolveConnection } from '../shared/database-connection.ts';
import { resolveDatabaseRef, type DatabaseReader } from '../shared/database-ref.ts';
import { pgTargetOf } from '../shared/pg-target.ts';
import { readSecret, requireKey, type SecretReader } from '../shared/secrets.ts';

export interface ReferenceReaders {
  databases: DatabaseReader;
  secrets: SecretReader;
}

/**
 * Every missing reference of the policy, in spec order (empty when all resolve), and the name of the
 * PostgreSQL database its databaseRef leads to, when that resolves.
 */
export async function policyReferenceProblems(spec: BackupPolicySpec, namespace: string, readers: ReferenceReaders): Promise<{ problems: OperatorError[]; database: string | undefined }> {
  let database: string | undefined;
  const checks: Array<() => Promise<unknown>> = [
    async () => {
      database = pgTargetOf((await resolveDatabaseRef(readers.databases, readers.secrets, namespace, spec.databaseRef.name, { requireSchema: false })).settings).database;
    },
    () => checkDestinationCredentials([spec.destination, ...spec.replicas], namespace, readers.secrets),
  ];
  const drill = spec.restoreDrill;
  if (drill) {
    checks.push(async () => requireKey(await readSecret(readers.secrets, namespace, drill.identitySecret.name), drill.identitySecret.name, drill.identitySecret.key, 'restore drill identity'));
    if (drill.connectionSecret) checks.push(() => resolveConnection(readers.secrets, namespace, { secretName: drill.connectionSecret ?? '', uriKey: 'uri', sslMode: 'disable' }));
  }
  const webhook = spec.webhook;
  if (webhook) checks.push(async () => requireKey(await readSecret(readers.secrets, namespace, webhook.urlSecret.name), webhook.urlSecret.name, webhook.urlSecret.key, 'webhook URL'));
  const problems: OperatorError[] = [];
  for (const check of checks) {
    try {
      await check();
    } catch (error) {
      if (!isOperatorError(error)) throw error;
      problems.push(error);
    }
  }
  return { problems, database };
}

/** Throws SecretNotFound / SecretKeyMissing for the first destination whose credentials are incomplete. */
export async function checkDestinationCredentials(destinations: readonly S3Destination[], namespace: string, secrets: SecretReader): Promise<void> {
  for (const d of destinations) {
    const data = await readSecret(secrets, namespace, d.credentialsSecret);
    const what = `credentials of destination ${d.name}`;
    requireKey(data, d.credentialsSecret, 'accessKeyId', what);
    requireKey(data, d.credentialsSecret, 'secretAccessKey', what);
  }
}
