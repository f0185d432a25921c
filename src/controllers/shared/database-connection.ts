// Turns a LokdarpanDatabase's connection spec and its Secret into PostgreSQL connection settings:
// either the Secret's URI key, or its discrete host/port/database/user/password keys.
import type { PgConnectionSettings } from '../../adapters/postgres/index.ts';
import { OperatorError } from '../../errors.ts';
import type { LokdarpanDatabaseSpec } from '../../api/lokdarpan-database.ts';
import { readSecret, requireKey, SECRET_REASONS, type SecretReader } from './secrets.ts';
import { CONNECTION_REASONS } from './reasons.ts';

export { CONNECTION_REASONS } from './reasons.ts';

export type ConnectionSpec = LokdarpanDatabaseSpec['connection'];

export async function resolveConnection(reader: SecretReader, namespace: string, connection: ConnectionSpec): Promise<PgConnectionSettings> {
  const data = await readSecret(reader, namespace, connection.secretName);
  return connectionFromSecretData(data, connection);
}

export function connectionFromSecretData(data: Record<string, string>, connection: ConnectionSpec): PgConnectionSettings {
  const uri = data[connection.uriKey];
  const ssl = sslFor(connection.sslMode, data['ca.crt']);
  if (uri !== undefined && uri !== '') {
    if (!/^postgres(ql)?:\/\//.test(uri)) {
      throw new OperatorError(CONNECTION_REASONS.InvalidConnection, `Secret ${connection.secretName} key "${connection.uriKey}" is not a postgres:// URI`);
    }
    return /[?&]sslmode=/.test(uri) ? { connectionString: uri } : { connectionString: uri, ...ssl };
  }
  const what = `no "${connection.uriKey}" key, so host, database, user and password are needed`;
  const host = requireKey(data, connection.secretName, 'host', what);
  const portText = data['port'] ?? '5432';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new OperatorError(CONNECTION_REASONS.InvalidConnection, `Secret ${connection.secretName} key "port" is not a TCP port`);
  }
  return {
    host,
    port,
    database: requireKey(data, connection.secretName, 'database', what),
    user: requireKey(data, connection.secretName, 'user', what),
    password: requireKey(data, connection.secretName, 'password', what),
    ...ssl,
  };
}

function sslFor(mode: ConnectionSpec['sslMode'], ca: string | undefined): Pick<PgConnectionSettings, 'ssl'> {
  if (mode === 'disable') return {};
  if (mode === 'require') return { ssl: { rejectUnauthorized: false } };
  return { ssl: ca === undefined ? { rejectUnauthorized: true } : { rejectUnauthorized: true, ca } };
}
