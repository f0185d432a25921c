// Where pg_dump / pg_restore / the snapshot session connect: discrete fields, turned into PG*
// environment variables for the tools (never argv, so the password is not visible in `ps`) and into a
// node-postgres client config.
import type { ClientConfig } from 'pg';

export interface PgTarget {
  host: string;
  port?: number;
  user: string;
  password?: string;
  database: string;
  /** true: sslmode=require; false: sslmode=disable; unset: libpq's default (prefer). */
  ssl?: boolean;
}

/** A postgres:// URL as a PgTarget (user, password, host, port, database, sslmode). */
export function pgTargetFromUrl(url: string): PgTarget {
  const u = new URL(url);
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new Error('not a postgres:// URL');
  const target: PgTarget = {
    host: decodeURIComponent(u.hostname || u.searchParams.get('host') || 'localhost'),
    user: decodeURIComponent(u.username || 'postgres'),
    database: decodeURIComponent(u.pathname.replace(/^\//, '') || 'postgres'),
  };
  if (u.port !== '') target.port = Number(u.port);
  if (u.password !== '') target.password = decodeURIComponent(u.password);
  const sslmode = u.searchParams.get('sslmode');
  if (sslmode === 'disable') target.ssl = false;
  else if (sslmode !== null && sslmode !== 'prefer' && sslmode !== 'allow') target.ssl = true;
  return target;
}

/** The same server and role, another database. */
export function withDatabase(target: PgTarget, database: string): PgTarget {
  return { ...target, database };
}

/** PG* variables for libpq tools; the caller's own PG* variables are not inherited. */
export function pgToolEnv(target: PgTarget, base: NodeJS.ProcessEnv, applicationName: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!k.startsWith('PG')) env[k] = v;
  env['PGHOST'] = target.host;
  env['PGPORT'] = String(target.port ?? 5432);
  env['PGUSER'] = target.user;
  env['PGDATABASE'] = target.database;
  env['PGAPPNAME'] = applicationName;
  env['PGCONNECT_TIMEOUT'] = '10';
  if (target.password !== undefined) env['PGPASSWORD'] = target.password;
  if (target.ssl === true) env['PGSSLMODE'] = 'require';
  if (target.ssl === false) env['PGSSLMODE'] = 'disable';
  return env;
}

export function pgClientConfig(target: PgTarget, applicationName: string): ClientConfig {
  const config: ClientConfig = {
    host: target.host,
    port: target.port ?? 5432,
    user: target.user,
    database: target.database,
    application_name: applicationName,
    connectionTimeoutMillis: 10_000,
  };
  if (target.password !== undefined) config.password = target.password;
  if (target.ssl !== undefined) config.ssl = target.ssl;
  return config;
}

export function describeTarget(target: PgTarget): string {
  return `${target.user}@${target.host}:${target.port ?? 5432}/${target.database}`;
}
