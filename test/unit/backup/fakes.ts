// In-memory fakes of the backup engine's ports: an ObjectStore that commits an upload only when its
// stream ends cleanly (like a multipart upload), and a BackupSource whose "pg_dump" emits given bytes
// and exits with a given code.
import { PassThrough, Readable } from 'node:stream';
import { OperatorError } from '../../../src/errors.ts';
import type { BackupSource, DumpSnapshot, ObjectStore } from '../../../src/engines/backup/index.ts';
import type { CopyOptions, CopyResult, DeleteOutcome, ObjectInfo, StoredObject } from '../../../src/adapters/s3/index.ts';

export class MemoryStore implements ObjectStore {
  readonly objects = new Map<string, { data: Buffer; modified: Date }>();
  /** Every committed write in order: "put:key" / "upload:key". */
  readonly writes: string[] = [];
  failPuts = false;
  /** The next this-many uploads fail half-way (after reading some of the stream). */
  failUploads = 0;
  readonly name: string;
  readonly bucket: string;
  readonly prefix: string;
  constructor(name: string, bucket = `${name}-bucket`, prefix = '') {
    this.name = name;
    this.bucket = bucket;
    this.prefix = prefix;
  }
  key(relative: string): string {
    return `${this.prefix}${relative}`;
  }
  async upload(key: string, body: Readable): Promise<StoredObject> {
    const parts: Buffer[] = [];
    if (this.failUploads > 0) {
      this.failUploads--;
      for await (const chunk of body) {
        parts.push(chunk as Buffer);
        break;
      }
      body.destroy();
      throw new OperatorError('UploadFailed', `upload to ${this.name}:${key} refused half-way`);
    }
    try {
      for await (const chunk of body) parts.push(chunk as Buffer);
    } catch (error) {
      throw new OperatorError('UploadFailed', `upload to ${this.name}:${key} failed: ${(error as Error).message}`, { cause: error });
    }
    this.objects.set(key, { data: Buffer.concat(parts), modified: new Date() });
    this.writes.push(`upload:${key}`);
    return { key, versionId: `v${this.writes.length}` };
  }
  async put(key: string, body: Buffer | string): Promise<StoredObject> {
    if (this.failPuts) throw new OperatorError('UploadFailed', `put ${key} refused`);
    this.objects.set(key, { data: Buffer.from(body), modified: new Date() });
    this.writes.push(`put:${key}`);
    return { key };
  }
  async get(key: string): Promise<{ body: Readable; size?: number }> {
    const o = this.objects.get(key);
    if (o === undefined) throw new OperatorError('ObjectNotFound', `no ${key}`);
    return { body: Readable.from([o.data]), size: o.data.length };
  }
  async getBuffer(key: string): Promise<Buffer> {
    const o = this.objects.get(key);
    if (o === undefined) throw new OperatorError('ObjectNotFound', `no ${key}`);
    return o.data;
  }
  async head(key: string): Promise<ObjectInfo | undefined> {
    const o = this.objects.get(key);
    return o === undefined ? undefined : { key, size: o.data.length, lastModified: o.modified, legalHold: false };
  }
  async *list(prefix: string): AsyncGenerator<{ key: string; size: number; lastModified?: Date }> {
    for (const [key, o] of [...this.objects].sort()) if (key.startsWith(prefix)) yield { key, size: o.data.length, lastModified: o.modified };
  }
  async delete(key: string): Promise<DeleteOutcome> {
    this.objects.delete(key);
    return { status: 'deleted', key };
  }
  async copyFrom(source: ObjectStore, sourceKey: string, key: string, options: CopyOptions = {}): Promise<CopyResult> {
    const { body } = await source.get(sourceKey);
    const input = options.sourceTap === undefined ? body : body.pipe(options.sourceTap);
    return { ...(await this.upload(key, input)), method: 'stream' };
  }
}

export interface FakeDumpOptions {
  output: Buffer;
  exitCode?: number;
  /** Rejects the row counts with this message. */
  countsFail?: string;
  tables?: Array<{ schema: string; table: string; rows: number }>;
}

export function fakeSource(options: FakeDumpOptions): BackupSource & { closed: number; killed: number } {
  const state = { closed: 0, killed: 0 };
  const snapshot: DumpSnapshot = {
    database: 'fake', serverVersion: '15.14', serverVersionNum: 150014, serverMajor: 15, schemaVersion: '0004_ai',
    countRows: async () => {
      if (options.countsFail !== undefined) throw new OperatorError('DatabaseUnavailable', options.countsFail);
      return options.tables ?? [{ schema: 'public', table: 'post', rows: 3 }];
    },
    close: async () => void state.closed++,
  };
  return Object.assign(state, {
    openSnapshot: async () => snapshot,
    startDump: async () => {
      const stdout = new PassThrough();
      let finish: (() => void) | undefined;
      const exited = new Promise<void>((resolve, reject) => {
        finish = () => ((options.exitCode ?? 0) === 0 ? resolve() : reject(new OperatorError('DumpFailed', `pg_dump exited with code ${options.exitCode}`)));
      });
      exited.catch(() => undefined);
      // Like pg_dump: all output, EOF, and only then the exit status.
      setImmediate(() => {
        stdout.end(options.output);
        setTimeout(() => finish?.(), 5);
      });
      return { dump: { stdout, exited, kill: () => void state.killed++ }, toolVersion: '15.14', toolMajor: 15 };
    },
  });
}
