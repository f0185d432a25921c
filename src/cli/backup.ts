// `lokdarpan backup`, `lokdarpan restore` and `lokdarpan backups list|verify|prune`: the backup and
// restore engines from the command line. Destinations come from flags (one) or a JSON/YAML config file
// (a destination and replicas, each with its own credentials' environment variable names); the
// database from --database-url or the PG* variables. Human output by default, --json for machines.
// runBackupCli(argv, io): argv starts with the command: ["backup", ...], ["restore", ...] or
// ["backups", "list"|"verify"|"prune", ...].
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { parseIdentityFile, parseRecipient, type AgeIdentity } from '../adapters/age/index.ts';
import { DEFAULT_PG_BIN_DIRS, pgBackupSource, pgTargetFromUrl, type PgBinDirs, type PgTarget } from '../adapters/pgdump/index.ts';
import { S3ObjectStore, type S3StoreConfig } from '../adapters/s3/index.ts';
import { parseDuration } from '../api/duration.ts';
import { describeError, isOperatorError } from '../errors.ts';
import { createLogger, silentLogger } from '../observability/logger.ts';
import { backupKeys, listBackups, pruneBackups, runBackup, verifyBackup, type RetentionRules } from '../engines/backup/index.ts';
import { runRestore } from '../engines/restore/index.ts';
import { EXIT } from './io.ts';

export interface BackupIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv | Readonly<Record<string, string | undefined>>;
  cwd?: string;
}

export const BACKUP_USAGE = `usage:
  lokdarpan backup [options]                 dump, compress, encrypt and upload a backup; copy it to replicas
  lokdarpan restore [options]                restore a backup into a fresh or empty database
  lokdarpan backups list [options]           backups of a database in a destination (by manifest)
  lokdarpan backups verify [options]         re-download a backup and check SHA-256 (with --identity-file: decrypt it all)
  lokdarpan backups prune [options]          delete backups by keep-last/daily/weekly/monthly and max age

destination (or --config):
  --config FILE              JSON/YAML: { destination: {...}, replicas: [{...}], recipients: [...], database, retention }
                             a destination: name, bucket, prefix, endpoint, region, forcePathStyle, checksums
                             ("WHEN_SUPPORTED" | "WHEN_REQUIRED"), accessKeyIdEnv, secretAccessKeyEnv
  --destination NAME         restore/list/verify/prune: read this destination or replica of --config (default: destination)
  --bucket NAME  --prefix P  --endpoint URL  --region R  --path-style  --checksums-when-required
                             credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (, AWS_SESSION_TOKEN)
database:
  --database-url URL         (default: DATABASE_URL, else PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE)
  --name NAME                folder of the backups in the bucket (default: the database name)
  --pg-bin MAJOR=DIR         pg_dump/pg_restore of a major (repeatable; default 15 and 18 under /usr/lib/postgresql)
backup:
  --recipient AGE1...        age X25519 recipient (repeatable); --recipients-file FILE (one per line)
  --id ID                    backup id (default: start time, 20260301T020000Z)
  --zstd-level N             1..19 (default 1)     --part-size MiB (default 5)
  --no-verify-primary        skip re-reading the primary object
  --replica-mode after|during  copy replicas after the upload (default; server-side where possible) or upload
                             them from the same stream during the dump (one pass, one upload buffer each)
restore / verify:
  --backup ID | --latest | --manifest-key KEY
  --identity-file FILE       age identities (AGE-SECRET-KEY-1...)
  --target-url URL           restore into this database (default: --database-url)
  --create                   create the target database if it does not exist
  --overwrite                allow a non-empty target (objects in the dump are dropped and recreated)
prune:
  --keep-last N --keep-daily N --keep-weekly N --keep-monthly N --max-age DURATION   --dry-run
common:
  --json  -v/--verbose  -h/--help

exit codes: 0 ok, 1 failure (a replica that failed also gives 1), 2 usage error
`;

class UsageError extends Error {}

const destinationConfigSchema = z.object({
  name: z.string().min(1).default('primary'),
  bucket: z.string().min(3),
  prefix: z.string().default(''),
  endpoint: z.string().optional(),
  region: z.string().default('us-east-1'),
  forcePathStyle: z.boolean().default(false),
  checksums: z.enum(['WHEN_SUPPORTED', 'WHEN_REQUIRED']).optional(),
  accessKeyIdEnv: z.string().default('AWS_ACCESS_KEY_ID'),
  secretAccessKeyEnv: z.string().default('AWS_SECRET_ACCESS_KEY'),
  sessionTokenEnv: z.string().optional(),
});

const configSchema = z.object({
  destination: destinationConfigSchema.optional(),
  replicas: z.array(destinationConfigSchema).default([]),
  recipients: z.array(z.string()).default([]),
  database: z.string().optional(),
  compressionLevel: z.number().int().min(1).max(19).optional(),
  replicaMode: z.enum(['after', 'during']).optional(),
  retention: z
    .object({ keepLast: z.number().int().min(0).optional(), keepDaily: z.number().int().min(0).optional(), keepWeekly: z.number().int().min(0).optional(), keepMonthly: z.number().int().min(0).optional(), maxAge: z.string().optional() })
    .optional(),
});

type Env = BackupIo['env'];

function storeFrom(config: z.infer<typeof destinationConfigSchema>, env: Env): S3ObjectStore {
  const settings: S3StoreConfig = { name: config.name, bucket: config.bucket, prefix: config.prefix, region: config.region, forcePathStyle: config.forcePathStyle };
  if (config.endpoint !== undefined) settings.endpoint = config.endpoint;
  if (config.checksums !== undefined) settings.checksums = config.checksums;
  const accessKeyId = env[config.accessKeyIdEnv];
  const secretAccessKey = env[config.secretAccessKeyEnv];
  if (accessKeyId && secretAccessKey) {
    settings.credentials = { accessKeyId, secretAccessKey };
    const token = env[config.sessionTokenEnv ?? 'AWS_SESSION_TOKEN'];
    if (token) settings.credentials.sessionToken = token;
  }
  return new S3ObjectStore(settings);
}

function targetFromEnv(env: Env, url: string | undefined): PgTarget {
  const fromUrl = url ?? env['DATABASE_URL'];
  if (fromUrl) {
    try {
      return pgTargetFromUrl(fromUrl);
    } catch (error) {
      throw new UsageError(`--database-url: ${describeError(error)}`);
    }
  }
  const target: PgTarget = { host: env['PGHOST'] ?? 'localhost', user: env['PGUSER'] ?? 'postgres', database: env['PGDATABASE'] ?? env['PGUSER'] ?? 'postgres' };
  if (env['PGPORT']) target.port = Number(env['PGPORT']);
  if (env['PGPASSWORD'] !== undefined) target.password = env['PGPASSWORD'];
  if (env['PGSSLMODE'] === 'disable') target.ssl = false;
  else if (env['PGSSLMODE'] === 'require' || env['PGSSLMODE'] === 'verify-ca' || env['PGSSLMODE'] === 'verify-full') target.ssl = true;
  return target;
}

function binDirsFrom(values: string[] | undefined): PgBinDirs {
  if (values === undefined || values.length === 0) return DEFAULT_PG_BIN_DIRS;
  const dirs: Record<number, string> = {};
  for (const v of values) {
    const m = /^(\d+)=(.+)$/.exec(v);
    if (m === null) throw new UsageError(`--pg-bin takes MAJOR=DIR, got "${v}"`);
    dirs[Number(m[1])] = m[2] as string;
  }
  return dirs;
}

function count(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]{1,6}$/.test(text)) throw new UsageError(`${flag} takes a whole number; got "${text}"`);
  return Number(text);
}

function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

export async function runBackupCli(argv: string[], io: BackupIo): Promise<number> {
  const [command, ...rest] = argv;
  const sub = command === 'backups' ? rest[0] : undefined;
  const args = command === 'backups' ? rest.slice(1) : rest;
  const say = (line: string): void => void io.stdout.write(`${line}\n`);
  if (command === undefined || !['backup', 'restore', 'backups'].includes(command) || (command === 'backups' && !['list', 'verify', 'prune'].includes(sub ?? ''))) {
    if (sub === '--help' || sub === '-h' || args.includes('--help')) {
      io.stdout.write(BACKUP_USAGE);
      return EXIT.ok;
    }
    io.stderr.write(BACKUP_USAGE);
    return EXIT.usage;
  }
  let values;
  try {
    ({ values } = parseArgs({
      args,
      allowPositionals: false,
      options: {
        config: { type: 'string' }, destination: { type: 'string' }, bucket: { type: 'string' }, prefix: { type: 'string' }, endpoint: { type: 'string' }, region: { type: 'string' },
        'path-style': { type: 'boolean' }, 'checksums-when-required': { type: 'boolean' },
        'database-url': { type: 'string' }, name: { type: 'string' }, 'pg-bin': { type: 'string', multiple: true },
        recipient: { type: 'string', multiple: true }, 'recipients-file': { type: 'string' }, id: { type: 'string' },
        'zstd-level': { type: 'string' }, 'replica-mode': { type: 'string' }, 'part-size': { type: 'string' }, 'no-verify-primary': { type: 'boolean' },
        backup: { type: 'string' }, latest: { type: 'boolean' }, 'manifest-key': { type: 'string' }, 'identity-file': { type: 'string' },
        'target-url': { type: 'string' }, create: { type: 'boolean' }, overwrite: { type: 'boolean' },
        'keep-last': { type: 'string' }, 'keep-daily': { type: 'string' }, 'keep-weekly': { type: 'string' }, 'keep-monthly': { type: 'string' },
        'max-age': { type: 'string' }, 'dry-run': { type: 'boolean' },
        json: { type: 'boolean' }, verbose: { type: 'boolean', short: 'v' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    io.stderr.write(`${describeError(error)}\n\n${BACKUP_USAGE}`);
    return EXIT.usage;
  }
  if (values.help === true) {
    io.stdout.write(BACKUP_USAGE);
    return EXIT.ok;
  }
  const cwd = io.cwd ?? process.cwd();
  const logger = values.verbose === true ? createLogger({ level: 'info', destination: io.stderr }) : silentLogger;
  const stores: S3ObjectStore[] = [];
  try {
    // ---- configuration ----
    let config: z.infer<typeof configSchema> = configSchema.parse({});
    if (values.config !== undefined) {
      const text = await readFile(resolve(cwd, values.config), 'utf8');
      const parsed = configSchema.safeParse(parseYaml(text));
      if (!parsed.success) throw new UsageError(`--config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      config = parsed.data;
    }
    let destination = config.destination;
    if (values.bucket !== undefined) {
      destination = destinationConfigSchema.parse({
        name: destination?.name ?? 'primary',
        bucket: values.bucket,
        prefix: values.prefix ?? '',
        endpoint: values.endpoint,
        region: values.region ?? 'us-east-1',
        forcePathStyle: values['path-style'] === true,
        checksums: values['checksums-when-required'] === true ? 'WHEN_REQUIRED' : undefined,
      });
    }
    if (destination === undefined) throw new UsageError('a destination is required: --bucket (with --endpoint etc.) or --config');
    if (values.destination !== undefined) {
      if (command === 'backup') throw new UsageError('--destination selects where restore/list/verify/prune read; a backup always writes to the destination and its replicas');
      const chosen = [destination, ...config.replicas].find((d) => d.name === values.destination);
      if (chosen === undefined) throw new UsageError(`--destination ${values.destination}: no destination or replica of that name in --config`);
      destination = chosen;
    }
    const primary = storeFrom(destination, io.env);
    stores.push(primary);
    const target = targetFromEnv(io.env, values['database-url']);
    const name = values.name ?? config.database ?? target.database;
    const binDirs = binDirsFrom(values['pg-bin']);
    const identities = async (): Promise<AgeIdentity[]> => {
      if (values['identity-file'] === undefined) throw new UsageError('--identity-file is required');
      return parseIdentityFile(await readFile(resolve(cwd, values['identity-file']), 'utf8'));
    };
    const manifestKey = async (): Promise<string> => {
      if (values['manifest-key'] !== undefined) return values['manifest-key'];
      if (values.backup !== undefined) {
        // A policy's backups live in its own folder: find the id among every owner's, else the owner-less key.
        const id = values.backup;
        const found = (await listBackups(primary, name, { allOwners: true })).backups.filter((b) => b.id === id);
        if (found.length > 1) throw new UsageError(`backup ${id} exists for several policies; name it with --manifest-key (${found.map((b) => b.manifestKey).join(', ')})`);
        return found[0]?.manifestKey ?? primary.key(backupKeys(name, id).manifest);
      }
      if (values.latest === true) {
        const listed = await listBackups(primary, name, { allOwners: true });
        const latest = listed.backups[listed.backups.length - 1];
        if (latest === undefined) throw new UsageError(`no backups of ${name} in ${primary.name}`);
        return latest.manifestKey;
      }
      throw new UsageError('name the backup: --backup ID, --latest or --manifest-key KEY');
    };

    // ---- commands ----
    if (command === 'backup') {
      const recipients = [...config.recipients, ...(values.recipient ?? [])];
      if (values['recipients-file'] !== undefined) {
        const text = await readFile(resolve(cwd, values['recipients-file']), 'utf8');
        recipients.push(...text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')));
      }
      if (recipients.length === 0) throw new UsageError('at least one --recipient (age1...) is required');
      for (const r of recipients) parseRecipient(r);
      const replicas = config.replicas.map((r) => storeFrom(r, io.env));
      stores.push(...replicas);
      const level = count(values['zstd-level'], '--zstd-level') ?? config.compressionLevel;
      const replicaMode = values['replica-mode'] ?? config.replicaMode;
      if (replicaMode !== undefined && replicaMode !== 'after' && replicaMode !== 'during') throw new UsageError('--replica-mode is "after" or "during"');
      const partMiB = count(values['part-size'], '--part-size');
      const result = await runBackup({
        source: pgBackupSource(target, { binDirs }),
        primary,
        replicas,
        recipients,
        database: name,
        ...(values.id === undefined ? {} : { backupId: values.id }),
        ...(level === undefined ? {} : { compressionLevel: level }),
        ...(partMiB === undefined ? {} : { partSize: partMiB * 1024 * 1024 }),
        verifyPrimary: values['no-verify-primary'] !== true,
        ...(replicaMode === undefined ? {} : { replicaMode }),
        logger,
      });
      if (values.json === true) say(JSON.stringify(result, null, 2));
      else {
        const m = result.manifest;
        say(`backup ${result.id} of ${m.database}: ${mib(m.plainBytes)} dumped, ${mib(m.encryptedBytes)} stored, ${(m.durationMs / 1000).toFixed(1)} s`);
        say(`  sha256 ${m.sha256}`);
        for (const d of result.destinations) {
          say(`  ${d.name.padEnd(12)} ${d.error === undefined ? (d.verified ? 'verified' : 'stored') : `FAILED ${d.error.reason}: ${d.error.message}`}  s3://${d.bucket}/${d.key}`);
        }
      }
      return result.replicated ? EXIT.ok : EXIT.failure;
    }

    if (command === 'restore') {
      const restoreTarget = values['target-url'] === undefined ? target : targetFromEnv({}, values['target-url']);
      const result = await runRestore({
        store: primary,
        manifestKey: await manifestKey(),
        identities: await identities(),
        target: restoreTarget,
        createDatabase: values.create === true,
        overwrite: values.overwrite === true,
        binDirs,
        logger,
      });
      if (values.json === true) say(JSON.stringify({ ...result, manifest: undefined }, null, 2));
      else {
        say(`restored backup ${result.backupId} into ${result.database}${result.createdDatabase ? ' (created)' : ''} in ${(result.durationMs / 1000).toFixed(1)} s`);
        if (result.rowCountCheck !== undefined) say(`  row counts match the manifest in ${result.rowCountCheck.tablesChecked} tables`);
        for (const warning of [...result.databaseSettings.warnings, ...result.extensions.warnings]) say(`  warning: ${warning}`);
      }
      return EXIT.ok;
    }

    if (sub === 'list') {
      const listed = await listBackups(primary, name, { allOwners: true });
      if (values.json === true) say(JSON.stringify({ backups: listed.backups.map((b) => ({ manifestKey: b.manifestKey, ...b.manifest })), orphans: listed.orphans, invalid: listed.invalid }, null, 2));
      else {
        if (listed.backups.length === 0) say(`no backups of ${name} in ${primary.name}`);
        for (const b of listed.backups) {
          say(`${b.id}  ${b.manifest.startedAt}  ${mib(b.manifest.encryptedBytes).padStart(11)}  schema ${b.manifest.schemaVersion ?? '-'}  ${b.manifest.destinations.map((d) => d.name).join(',')}`);
        }
        for (const o of listed.orphans) say(`(incomplete) ${o.key}`);
        for (const i of listed.invalid) say(`(invalid) ${i.key}: ${i.message}`);
      }
      return EXIT.ok;
    }

    if (sub === 'verify') {
      const ids = values['identity-file'] === undefined ? [] : await identities();
      const result = await verifyBackup(primary, await manifestKey(), { identities: ids });
      if (values.json === true) say(JSON.stringify(result, null, 2));
      else say(`backup ${result.id}: SHA-256 matches (${mib(result.bytes)})${result.decrypted ? `; decrypted and decompressed to ${mib(result.plainBytes ?? 0)}` : ''}`);
      return EXIT.ok;
    }

    // prune
    const rules: RetentionRules = {};
    const fromConfig = config.retention ?? {};
    const keepLast = count(values['keep-last'], '--keep-last') ?? fromConfig.keepLast;
    const keepDaily = count(values['keep-daily'], '--keep-daily') ?? fromConfig.keepDaily;
    const keepWeekly = count(values['keep-weekly'], '--keep-weekly') ?? fromConfig.keepWeekly;
    const keepMonthly = count(values['keep-monthly'], '--keep-monthly') ?? fromConfig.keepMonthly;
    const maxAge = values['max-age'] ?? fromConfig.maxAge;
    if (keepLast !== undefined) rules.keepLast = keepLast;
    if (keepDaily !== undefined) rules.keepDaily = keepDaily;
    if (keepWeekly !== undefined) rules.keepWeekly = keepWeekly;
    if (keepMonthly !== undefined) rules.keepMonthly = keepMonthly;
    if (maxAge !== undefined) {
      try {
        rules.maxAgeMs = parseDuration(maxAge);
      } catch (error) {
        throw new UsageError(`--max-age: ${describeError(error)}`);
      }
    }
    if (Object.keys(rules).length === 0) throw new UsageError('prune needs at least one of --keep-last/--keep-daily/--keep-weekly/--keep-monthly/--max-age');
    const result = await pruneBackups({ store: primary, database: name, rules, dryRun: values['dry-run'] === true, logger });
    if (values.json === true) say(JSON.stringify(result, null, 2));
    else {
      for (const d of result.plan.keep) say(`keep    ${d.id}  (${d.reasons.join(', ')})`);
      for (const d of result.plan.delete) {
        const lock = result.locked.find((l) => l.id === d.id);
        const failed = result.failed.find((f) => f.id === d.id);
        const state = values['dry-run'] === true ? 'would delete' : lock ? `LOCKED (${lock.message})` : failed ? `FAILED ${failed.reason}: ${failed.message}` : 'deleted';
        say(`delete  ${d.id}  (${d.deleteReason})  ${state}`);
      }
      for (const o of result.orphansDeleted) say(`deleted incomplete ${o}`);
    }
    return result.failed.length === 0 ? EXIT.ok : EXIT.failure;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`${error.message}\n`);
      return EXIT.usage;
    }
    const reason = isOperatorError(error) ? `${error.reason}: ` : '';
    io.stderr.write(`${command}${sub === undefined ? '' : ` ${sub}`} failed: ${reason}${describeError(error)}\n`);
    return EXIT.failure;
  } finally {
    for (const s of stores) s.destroy();
  }
}
