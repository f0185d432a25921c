// The restore engine: download -> SHA-256 (checked before the stream may end) -> age decrypt -> zstd -d
// -> pg_restore --single-transaction into a fresh or empty database, then the row counts are compared
// with the manifest. pg_restore never receives the last piece of its input unless every check before
// it passed, so a corrupt, truncated or tampered backup rolls back and leaves the target untouched.
// It skips the archive's entries for extensions that exist before it runs and that the restoring role
// may not drop or comment on (a superuser's `vector`).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createZstdDecompress } from 'node:zlib';
import { OperatorError, describeError, isOperatorError } from '../../errors.ts';
import { systemClock } from '../../clock.ts';
import { silentLogger } from '../../observability/logger.ts';
import { AgeDecryptStream, parseIdentityFile, recipientFingerprint, type AgeIdentity } from '../../adapters/age/index.ts';
import {
  chooseTool, countRows, DEFAULT_PG_BIN_DIRS, describeTarget, dropDatabase, inspectTarget, spawnPgRestore, withDatabase,
  type PgBinDirs, type PgTarget, type PgTool, type TableRowCount,
} from '../../adapters/pgdump/index.ts';
import {
  archiveExtensions, canCreateOwnedBy, createDatabaseFrom, createExtensions, extensionsOwnedByOthers, inspectCreation, listArchive, listingWithout, withSession,
} from '../../adapters/pgdump/provision.ts';
import { applySchemaDatabaseSettings, type AppliedDatabaseSettings } from '../migrations/database-settings.ts';
import { keptExtensions, planCreation, type CreationPlan, type KeptExtensions } from './preflight.ts';
import { RestoreEngineReasons } from './reasons.ts';
import { BackupReasons } from '../backup/reasons.ts';
import { readManifestAt } from '../backup/catalog.ts';
import { classifyStreamError, HashTap, HoldLast } from '../backup/streams.ts';
import type { BackupManifest } from '../backup/manifest.ts';
import type { ObjectStore } from '../backup/ports.ts';
import { abortReason, runSignal } from '../backup/signal.ts';
import { startProgressSampler, type RunControls } from '../backup/progress.ts';

/** A timed-out restore is Cancelled and rolled back; progress counts the stored bytes downloaded. */
export interface RestoreOptions extends RunControls {
  store: ObjectStore;
  /** Full key of the backup's manifest in `store`. */
  manifestKey: string;
  /** age identities (AGE-SECRET-KEY-1...); one must match a recipient of the backup. */
  identities: ReadonlyArray<string | AgeIdentity>;
  target: PgTarget;
  /**
   * Create the target database when it does not exist. Default false. A superuser creates it from
   * template0; a CREATEDB role from template1 (whose extensions it then keeps); with `admin`, the admin
   * creates it owned by the target's role, with the extensions the backup needs. A preflight checks
   * this can work before anything is created.
   */
  createDatabase?: boolean;
  /** Connection (same server) that creates the new database and its extensions for a less privileged target role. */
  admin?: PgTarget;
  /** Restore into a database that is not empty (pg_restore --clean --if-exists). Default false. */
  overwrite?: boolean;
  binDirs?: PgBinDirs;
  /** Database used to check for and create the target. Default "postgres". */
  maintenanceDatabase?: string;
  /** Compare row counts with the manifest afterwards. Default true. */
  checkRowCounts?: boolean;
  /** Drop a database this restore created when the restore fails. Default true. */
  dropCreatedOnFailure?: boolean;
}

export interface RowCountCheck {
  passed: boolean;
  tablesChecked: number;
  mismatches: Array<{ table: string; expected: number; actual: number }>;
}

export interface RestoreResult {
  backupId: string;
  database: string;
  createdDatabase: boolean;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Bytes downloaded (the stored object). */
  bytes: number;
  sha256: string;
  pgRestoreVersion: string;
  manifest: BackupManifest;
  rowCountCheck?: RowCountCheck;
  /** The database settings of the schema's applied migrations, made again (a dump does not carry them). */
  databaseSettings: AppliedDatabaseSettings;
  /** Extensions of an existing target database that another role owns: kept as they were, their archive entries skipped. */
  extensions: KeptExtensions;
}

const RESTORE_ZSTD_CHUNK = 256 * 1024;

function isBrokenPipe(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_WRITE_AFTER_END';
}

export function compareRowCounts(expected: readonly TableRowCount[], actual: readonly TableRowCount[]): RowCountCheck {
  const found = new Map(actual.map((t) => [`${t.schema}.${t.table}`, t.rows]));
  const mismatches: RowCountCheck['mismatches'] = [];
  for (const t of expected) {
    const name = `${t.schema}.${t.table}`;
    const rows = found.get(name) ?? -1;
    if (rows !== t.rows) mismatches.push({ table: name, expected: t.rows, actual: rows });
  }
  return { passed: mismatches.length === 0, tablesChecked: expected.length, mismatches };
}

export async function runRestore(options: RestoreOptions): Promise<RestoreResult> {
  const run = runSignal(options.signal, options.timeoutMs, 'restore');
  try {
    return await restoreBackup(run.signal === undefined ? options : { ...options, signal: run.signal });
  } finally {
    run.dispose();
  }
}

async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const clock = options.clock ?? systemClock;
  const startedAt = clock.now();
  const maintenance = options.maintenanceDatabase ?? 'postgres';
  // A string is an identity file's text (comments, blank lines, several identities), as age reads it.
  const identities = options.identities.flatMap((i) => (typeof i === 'string' ? parseIdentityFile(i) : [i]));
  if (identities.length === 0) throw new OperatorError(BackupReasons.InvalidRequest, 'at least one age identity is required', { terminal: true });
  const { manifest, dataKey } = await readManifestAt(options.store, options.manifestKey);
  const logger = (options.logger ?? silentLogger).child({ backup: manifest.id, target: describeTarget(options.target) });

  // Wrong key: refuse before touching the database (fingerprints are public, in the manifest).
  const ours = new Set(identities.map((i) => recipientFingerprint(i.recipient)));
  if (!manifest.encryption.recipients.some((r) => ours.has(r.fingerprint))) {
    throw new OperatorError(BackupReasons.DecryptionFailed, `none of the given identities is a recipient of backup ${manifest.id}`, {
      terminal: true,
      details: { recipients: manifest.encryption.recipients.map((r) => r.fingerprint) },
    });
  }

  const inspection = await inspectTarget(options.target, maintenance);
  let created = false;
  if (!inspection.exists) {
    if (options.createDatabase !== true) {
      throw new OperatorError(BackupReasons.TargetMissing, `database ${options.target.database} does not exist (ask for it to be created)`, { terminal: true });
    }
  } else if (inspection.userObjects > 0 && options.overwrite !== true) {
    throw new OperatorError(
      BackupReasons.TargetNotEmpty,
      `database ${options.target.database} holds ${inspection.userObjects} user objects; restoring into it needs the overwrite flag`,
      { terminal: true, details: { userObjects: inspection.userObjects } },
    );
  }
  if (inspection.serverMajor < manifest.server.major) {
    throw new OperatorError(
      BackupReasons.InvalidRequest,
      `backup ${manifest.id} comes from PostgreSQL ${manifest.server.major}; it cannot be restored into PostgreSQL ${inspection.serverMajor}`,
      { terminal: true },
    );
  }
  const tool = await chooseTool(options.binDirs ?? DEFAULT_PG_BIN_DIRS, 'pg_restore', inspection.serverMajor, manifest.pgDump.major);
  const creation = inspection.exists ? undefined : await preflightCreation(options, tool, dataKey, identities, maintenance);
  const existing = inspection.exists ? await preflightExisting(options, tool, dataKey, identities) : undefined;
  const extensions = existing?.extensions ?? { kept: [], warnings: [] };
  // Extensions that exist before pg_restore runs and that it must leave alone: their entries are skipped.
  const skipped = creation?.plan.preinstalled ?? extensions.kept;
  const listing = creation?.listing ?? existing?.listing;
  let listDir: string | undefined;

  try {
    if (creation !== undefined) {
      const { plan, listing } = creation;
      const creator = plan.viaAdmin ? (options.admin as PgTarget) : options.target;
      await createDatabaseFrom(creator, options.target.database, { template: plan.template, ...(plan.viaAdmin ? { owner: creation.owner } : {}) }, maintenance);
      created = true;
      await createExtensions(withDatabase(creator, options.target.database), plan.adminExtensions);
    }
    if (skipped.length > 0 && listing !== undefined) {
      listDir = await mkdtemp(join(tmpdir(), 'lokdarpan-restore-'));
      await writeFile(join(listDir, 'restore.list'), listingWithout(listing, skipped), { mode: 0o600 });
    }
    logger.info({ created, template: creation?.plan.template, skippedExtensions: skipped, pgRestore: tool.version }, 'restore started');
    const { body } = await options.store.get(dataKey, options.signal === undefined ? {} : { signal: options.signal });
    const hash = new HashTap({ sha256: manifest.sha256, size: manifest.encryptedBytes, where: `${options.store.name}:${dataKey}` });
    const restore = spawnPgRestore({
      tool,
      target: options.target,
      clean: options.overwrite === true && inspection.exists,
      singleTransaction: true,
      ...(listDir === undefined ? {} : { extraArgs: [`--use-list=${join(listDir, 'restore.list')}`] }),
    });
    let firstError: unknown;
    const fail = (error: unknown): void => {
      if (firstError === undefined) firstError = error;
      restore.kill();
      if (!body.destroyed) body.destroy();
    };
    const onAbort = (): void => fail(abortReason(options.signal, 'restore'));
    if (options.signal?.aborted === true) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    restore.exited.catch(fail);
    // 256 KiB output chunks: a quarter of the thread-pool round trips and pipe writes of 64 KiB ones (the
    // restore's CPU for 2 GB in bench/backup.ts: 4.5-5.5 s in eight runs, 5.6-6.5 s with 64 KiB; the rate is pg_restore's).
    const piping = pipeline(body, hash, new AgeDecryptStream(identities), createZstdDecompress({ chunkSize: RESTORE_ZSTD_CHUNK }), new HoldLast(), restore.stdin).catch((error: unknown) => {
      fail(error);
      throw error;
    });
    const stopProgress = options.onProgress
      ? startProgressSampler({ read: () => hash.bytes, totalBytes: manifest.encryptedBytes, onProgress: options.onProgress, intervalMs: options.progressIntervalMs, clock })
      : undefined;
    const [piped, exited] = await Promise.allSettled([piping, restore.exited]);
    stopProgress?.();
    options.signal?.removeEventListener('abort', onAbort);
    if (piped.status === 'rejected' || exited.status === 'rejected') {
      let error = firstError ?? (piped.status === 'rejected' ? piped.reason : (exited as PromiseRejectedResult).reason);
      // pg_restore stopping first shows up as EPIPE on its stdin: its own exit error says why. Any other
      // stream error (the download cut, a truncated object) is the cause, and pg_restore's "end of file" its effect.
      if (!isOperatorError(error) && exited.status === 'rejected' && isBrokenPipe(error)) error = exited.reason;
      throw classifyStreamError(error, BackupReasons.DownloadFailed, `restore of ${manifest.id}`);
    }

    logger.info({ bytes: hash.bytes }, 'pg_restore finished');
    let rowCountCheck: RowCountCheck | undefined;
    if (options.checkRowCounts ?? true) {
      rowCountCheck = compareRowCounts(manifest.tables, await countRows(options.target, manifest.tables));
      if (!rowCountCheck.passed) {
        throw new OperatorError(
          BackupReasons.RowCountMismatch,
          `row counts differ from the manifest in ${rowCountCheck.mismatches.length} of ${rowCountCheck.tablesChecked} tables (first: ${rowCountCheck.mismatches[0]?.table})`,
          { terminal: true, details: { rowCountCheck } },
        );
      }
    }
    const databaseSettings = await reapplyDatabaseSettings(options.target);
    if (databaseSettings.warnings.length > 0) logger.warn({ warnings: databaseSettings.warnings }, 'database settings of the schema not re-applied');
    if (extensions.warnings.length > 0) logger.warn({ warnings: extensions.warnings }, 'extensions kept at another version than the server provides');
    const finishedAt = clock.now();
    const result: RestoreResult = {
      backupId: manifest.id,
      database: options.target.database,
      createdDatabase: created,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      bytes: hash.bytes,
      sha256: hash.sha256,
      pgRestoreVersion: tool.version,
      manifest,
      databaseSettings,
      extensions,
    };
    if (rowCountCheck !== undefined) result.rowCountCheck = rowCountCheck;
    logger.info({ durationMs: result.durationMs, bytes: result.bytes, databaseSettings: databaseSettings.applied }, 'restore completed');
    return result;
  } catch (error) {
    const failure = isOperatorError(error) ? error : new OperatorError(BackupReasons.RestoreFailed, describeError(error), { cause: error });
    logger.error({ reason: failure.reason, err: failure.message }, 'restore failed');
    if (created && (options.dropCreatedOnFailure ?? true) && failure.reason !== BackupReasons.RowCountMismatch) {
      await dropDatabase(creation?.plan.viaAdmin === true ? withDatabase(options.admin as PgTarget, options.target.database) : options.target, maintenance).catch(() => undefined);
    }
    throw failure;
  } finally {
    if (listDir !== undefined) await rm(listDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * ALTER DATABASE ... SET of the schema's migrations recorded in the restored history. The data is
 * restored whatever happens here: a failure is a warning (the performance validation also reports a
 * missing setting).
 */
async function reapplyDatabaseSettings(target: PgTarget): Promise<AppliedDatabaseSettings> {
  try {
    return await withSession(target, 're-apply database settings', (client) => applySchemaDatabaseSettings(client));
  } catch (error) {
    return { applied: [], warnings: [`the schema's database settings were not re-applied: ${describeError(error)}`] };
  }
}

interface CreationPreflight {
  plan: CreationPlan;
  /** The archive's `pg_restore --list`, when it was read. */
  listing?: string;
  /** Owner of a database the admin creates: the target's role. */
  owner: string;
}

/**
 * Before anything is created: can the new database be made, and how? A superuser target needs no
 * more than before; otherwise the archive's table of contents says which extensions it needs and the
 * server says whether the role (or the admin) can provide them.
 */
async function preflightCreation(options: RestoreOptions, tool: PgTool, dataKey: string, identities: AgeIdentity[], maintenance: string): Promise<CreationPreflight> {
  const facts = await inspectCreation(options.target, maintenance);
  if (options.admin === undefined && facts.role.superuser) {
    return { plan: { template: 'template0', viaAdmin: false, adminExtensions: [], preinstalled: [] }, owner: facts.role.user };
  }
  const listing = await readListing(options, tool, dataKey, identities);
  const admin = options.admin === undefined
    ? undefined
    : { facts: await inspectCreation(options.admin, maintenance), canOwn: await canCreateOwnedBy(options.admin, facts.role.user, maintenance) };
  const decision = planCreation({ database: options.target.database, needed: archiveExtensions(listing).filter((e) => e !== 'plpgsql'), target: facts, ...(admin ? { admin } : {}) });
  if (!decision.ok) {
    throw new OperatorError(
      RestoreEngineReasons.RestorePreflightFailed,
      `cannot create database ${options.target.database} for the restore (nothing was created): ${decision.missing.join('; ')}`,
      { terminal: true, details: { missing: decision.missing } },
    );
  }
  return { plan: decision.plan, listing, owner: facts.role.user };
}

/**
 * An existing database: which of the archive's extensions exist in it and belong to another role (a
 * superuser installed `vector`)? The restoring role may not drop (--clean) or comment on them, so
 * pg_restore skips their entries. A superuser owns everything: nothing is skipped and the archive's
 * table of contents is not read.
 */
async function preflightExisting(options: RestoreOptions, tool: PgTool, dataKey: string, identities: AgeIdentity[]): Promise<{ extensions: KeptExtensions; listing?: string }> {
  const foreign = await extensionsOwnedByOthers(options.target);
  if (foreign.length === 0) return { extensions: { kept: [], warnings: [] } };
  const listing = await readListing(options, tool, dataKey, identities);
  return { extensions: keptExtensions(archiveExtensions(listing), foreign), listing };
}

/** The archive's table of contents: download, decrypt and decompress only its start. */
async function readListing(options: RestoreOptions, tool: PgTool, dataKey: string, identities: AgeIdentity[]): Promise<string> {
  const { body } = await options.store.get(dataKey, options.signal === undefined ? {} : { signal: options.signal });
  try {
    return await listArchive(tool, [body, new AgeDecryptStream(identities), createZstdDecompress({ chunkSize: 64 * 1024 })]);
  } catch (error) {
    throw classifyStreamError(error, BackupReasons.DownloadFailed, 'reading the table of contents of the backup');
  }
}
