// What the backup and restore engines need from the outside world. The real implementations are
// S3ObjectStore (src/adapters/s3) and pgBackupSource (src/adapters/pgdump/source.ts); unit tests
// pass in-memory fakes.
import type { Readable } from 'node:stream';
import type { CopyOptions, CopyResult, DeleteOutcome, ListedObject, ObjectInfo, StoredObject, UploadOptions } from '../../adapters/s3/store.ts';
import type { TableRowCount } from '../../adapters/pgdump/session.ts';

export type { CopyOptions, CopyResult, DeleteOutcome, ListedObject, ObjectInfo, StoredObject, UploadOptions, TableRowCount };

export interface ObjectStore {
  readonly name: string;
  readonly bucket: string;
  /** Full key of a key relative to the destination's prefix. */
  key(relative: string): string;
  upload(key: string, body: Readable, options?: UploadOptions): Promise<StoredObject>;
  /** With ifNoneMatch: only when the key is free, AlreadyExists otherwise. */
  put(key: string, body: Buffer | string, options?: { contentType?: string; metadata?: Record<string, string>; ifNoneMatch?: boolean; signal?: AbortSignal }): Promise<StoredObject>;
  get(key: string, options?: { versionId?: string; signal?: AbortSignal }): Promise<{ body: Readable; size?: number; versionId?: string }>;
  getBuffer(key: string, options?: { versionId?: string }): Promise<Buffer>;
  head(key: string, versionId?: string): Promise<ObjectInfo | undefined>;
  list(prefix: string): AsyncIterable<ListedObject>;
  delete(key: string, now: Date): Promise<DeleteOutcome>;
  copyFrom(source: ObjectStore, sourceKey: string, key: string, options?: CopyOptions): Promise<CopyResult>;
}

/** A consistent view of the database being backed up. */
export interface DumpSnapshot {
  readonly database: string;
  readonly serverVersion: string;
  readonly serverVersionNum: number;
  readonly serverMajor: number;
  readonly schemaVersion: string | undefined;
  /** pg_database_size() when known: the estimate the upload's part size starts from. */
  readonly databaseBytes?: number;
  /** About how many bytes the dump will be (the tables' size), when known: progress estimates use it. */
  readonly estimatedDumpBytes?: number;
  countRows(): Promise<TableRowCount[]>;
  close(): Promise<void>;
}

export interface RunningDump {
  /** The custom-format archive. */
  readonly stdout: Readable;
  /** Resolves when the dump tool exited 0; rejects (DumpFailed) otherwise. */
  readonly exited: Promise<void>;
  kill(): void;
}

export interface BackupSource {
  /** Opens the snapshot the dump and the row counts share. */
  openSnapshot(): Promise<DumpSnapshot>;
  /** Starts the dump of `snapshot` with a tool matching its server major (PgDumpTooOld otherwise). */
  startDump(snapshot: DumpSnapshot): Promise<{ dump: RunningDump; toolVersion: string; toolMajor: number }>;
}
