// Connection settings (from a Secret) as the target pg_dump / pg_restore and the snapshot session use.
import type { PgConnectionSettings } from '../../adapters/postgres/index.ts';
import { pgTargetFromUrl, type PgTarget } from '../../adapters/pgdump/index.ts';
import { OperatorError } from '../../errors.ts';

export function pgTargetOf(settings: PgConnectionSettings): PgTarget {
  const base: PgTarget = settings.connectionString ? pgTargetFromUrl(settings.connectionString) : { host: 'localhost', user: 'postgres', database: 'postgres' };
  const target: PgTarget = {
    ...base,
    ...(settings.host === undefined ? {} : { host: settings.host }),
    ...(settings.port === undefined ? {} : { port: settings.port }),
    ...(settings.user === undefined ? {} : { user: settings.user }),
    ...(settings.password === undefined ? {} : { password: settings.password }),
    ...(settings.database === undefined ? {} : { database: settings.database }),
  };
  if (settings.ssl !== undefined) target.ssl = settings.ssl !== false;
  if (!target.host) throw new OperatorError('InvalidConnection', 'the connection names no host');
  return target;
}
