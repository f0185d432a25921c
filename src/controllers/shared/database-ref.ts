// Follows a policy's databaseRef to its LokdarpanDatabase and from there to connection settings, so
// backups and retention reach the same database with the same Secret the migrations use.
import type { PgConnectionSettings } from '../../adapters/postgres/index.ts';
import { lokdarpanDatabaseSpecSchema, type LokdarpanDatabaseStatus } from '../../api/lokdarpan-database.ts';
import { OperatorError } from '../../errors.ts';
import { resolveConnection } from './database-connection.ts';
import type { SecretReader } from './secrets.ts';
import { databaseMutexKey } from '../lokdarpan-database/reconciler.ts';
import { DATABASE_REF_REASONS } from './reasons.ts';

export { DATABASE_REF_REASONS } from './reasons.ts';

export interface DatabaseResource {
  metadata: { name: string; namespace?: string };
  spec: unknown;
  status?: LokdarpanDatabaseStatus;
}

/** Reads a LokdarpanDatabase; undefined when it does not exist. */
export interface DatabaseReader {
  get(namespace: string, name: string): Promise<DatabaseResource | undefined>;
}

export interface ResolvedDatabase {
  settings: PgConnectionSettings;
  schemaVersion: string | undefined;
  /** Key for the per-database mutex, shared with the LokdarpanDatabase controller. */
  mutexKey: string;
}

/** Resolves the reference; `requireSchema` insists the database's schema is migrated (SchemaReady True). */
export async function resolveDatabaseRef(
  databases: DatabaseReader,
  secrets: SecretReader,
  namespace: string,
  name: string,
  options: { requireSchema: boolean },
): Promise<ResolvedDatabase> {
  const database = await databases.get(namespace, name);
  if (!database) {
    throw new OperatorError(DATABASE_REF_REASONS.DatabaseNotFound, `LokdarpanDatabase ${namespace}/${name} not found`);
  }
  const spec = lokdarpanDatabaseSpecSchema.safeParse(database.spec);
  if (!spec.success) {
    throw new OperatorError(DATABASE_REF_REASONS.DatabaseNotReady, `LokdarpanDatabase ${namespace}/${name} has an invalid spec; see its status`);
  }
  const schemaReady = database.status?.conditions?.find((c) => c.type === 'SchemaReady')?.status === 'True';
  if (options.requireSchema && !schemaReady) {
    throw new OperatorError(DATABASE_REF_REASONS.DatabaseNotReady, `LokdarpanDatabase ${namespace}/${name} has no ready schema yet (SchemaReady is not True)`);
  }
  return {
    settings: await resolveConnection(secrets, namespace, spec.data.connection),
    schemaVersion: database.status?.schemaVersion,
    mutexKey: databaseMutexKey(namespace, name),
  };
}
