// Archive objects for retention: the sink port (where objects go), the object layout (deterministic keys
// from the primary-key range of a batch, a pending marker while a batch is in flight, a manifest once its
// rows are deleted) and the encoding (NDJSON -> zstd -> age).
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { zstdCompress } from 'node:zlib';
import { encryptBuffer } from '../../adapters/age/index.ts';
import type { ResolvedRule } from './catalog.ts';

/** Where archive objects are stored (an S3 prefix in production, memory in unit tests). */
export interface ArchiveSink {
  /** Writes the object (overwriting the key); returns the SHA-256 (hex) and size of what was written. */
  put(key: string, body: Readable | Buffer): Promise<{ sha256: string; size: number }>;
  /** Re-reads the object and says whether its SHA-256 is the given one. */
  verify(key: string, sha256: string): Promise<boolean>;
  /** A whole (small) object, or undefined when there is none. */
  get(key: string): Promise<Buffer | undefined>;
  /** Keys under a prefix (all pages). */
  list(prefix: string): Promise<string[]>;
  /** Removes an object; no error when it is already gone. */
  delete(key: string): Promise<void>;
}

/** Turns plaintext into ciphertext for the archive's recipients. */
export type ArchiveEncryptor = (plain: Buffer) => Promise<Buffer>;

/** The encryptor for `age1...` recipients (the age adapter; objects decrypt with the `age` CLI). */
export function ageEncryptor(recipients: readonly string[]): ArchiveEncryptor {
  if (recipients.length === 0) throw new Error('an archive needs at least one age recipient');
  return (plain) => encryptBuffer(plain, recipients);
}

export const ARCHIVE_FORMAT = 'ndjson+zstd+age' as const;
const zstd = promisify(zstdCompress);

/** One JSON document per line, zstd-compressed, then encrypted. */
export async function encodeArchive(docs: readonly string[], encrypt: ArchiveEncryptor): Promise<Buffer> {
  const ndjson = Buffer.from(docs.map((d) => `${d}\n`).join(''), 'utf8');
  return encrypt(await zstd(ndjson));
}

export function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A key component for a primary-key value: zero-padded integers sort in key order; anything else is hashed. */
export function keyPart(value: string): string {
  if (/^[0-9]{1,20}$/.test(value)) return value.padStart(20, '0');
  return `h${createHash('sha256').update(value).digest('hex').slice(0, 24)}`;
}

export interface ArchiveKeys {
  data: string;
  manifest: string;
  pending: string;
}

export function rulePrefix(prefix: string, resolved: ResolvedRule): string {
  return `${prefix}${resolved.table.schema}.${resolved.table.table}/${resolved.rule.name}/`;
}

export function pendingPrefix(prefix: string, resolved: ResolvedRule): string {
  return `${rulePrefix(prefix, resolved)}_pending/`;
}

export function archiveKeys(prefix: string, resolved: ResolvedRule, firstKey: string, lastKey: string): ArchiveKeys {
  const base = rulePrefix(prefix, resolved);
  const range = `${keyPart(firstKey)}-${keyPart(lastKey)}`;
  return { data: `${base}${range}.ndjson.zst.age`, manifest: `${base}${range}.manifest.json`, pending: `${pendingPrefix(prefix, resolved)}${range}.json` };
}

/** Written before the object: names the rows in flight, so a crashed batch can be resolved later. */
export interface PendingMarker {
  version: 1;
  state: 'pending';
  rule: string;
  schema: string;
  table: string;
  primaryKey: string;
  dataKey: string;
  keys: string[];
  runId: string;
  createdAt: string;
}

/** Written after the rows are deleted: the object is complete and its rows are gone from the table. */
export interface ArchiveManifest {
  version: 1;
  state: 'committed';
  format: typeof ARCHIVE_FORMAT;
  rule: string;
  schema: string;
  table: string;
  primaryKey: string;
  dataKey: string;
  firstKey: string;
  lastKey: string;
  count: number;
  sha256: string;
  size: number;
  runId: string;
  committedAt: string;
  /** Set when the manifest was written by crash recovery rather than by the batch itself. */
  recovered?: boolean;
}

export function toJsonBuffer(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
}

/** An ArchiveSink in memory, for unit tests and dry experiments. */
export class MemoryArchiveSink implements ArchiveSink {
  readonly objects = new Map<string, Buffer>();
  async put(key: string, body: Readable | Buffer): Promise<{ sha256: string; size: number }> {
    const data = Buffer.isBuffer(body) ? body : await collect(body);
    this.objects.set(key, data);
    return { sha256: sha256Hex(data), size: data.length };
  }
  async verify(key: string, sha256: string): Promise<boolean> {
    const data = this.objects.get(key);
    return data !== undefined && sha256Hex(data) === sha256;
  }
  async get(key: string): Promise<Buffer | undefined> {
    return this.objects.get(key);
  }
  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}
