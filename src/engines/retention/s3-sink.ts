// The ArchiveSink on an S3 (or S3-compatible) bucket prefix, through the S3 adapter. Objects are small
// (one batch each), so they are written with one PUT and read back whole to verify their SHA-256.
import type { Readable } from 'node:stream';
import type { S3ObjectStore } from '../../adapters/s3/index.ts';
import type { Clock } from '../../clock.ts';
import { systemClock } from '../../clock.ts';
import { OperatorError } from '../../errors.ts';
import { sha256Hex, type ArchiveSink } from './archive.ts';
import { RetentionReasons } from './reasons.ts';

export function s3ArchiveSink(store: S3ObjectStore, clock: Clock = systemClock): ArchiveSink {
  return {
    async put(key: string, body: Readable | Buffer) {
      const data = Buffer.isBuffer(body) ? body : Buffer.concat(await body.toArray());
      await store.put(store.key(key), data);
      return { sha256: sha256Hex(data), size: data.length };
    },
    async verify(key: string, sha256: string) {
      const info = await store.head(store.key(key));
      if (info === undefined) return false;
      return sha256Hex(await store.getBuffer(store.key(key))) === sha256;
    },
    async get(key: string) {
      if ((await store.head(store.key(key))) === undefined) return undefined;
      return store.getBuffer(store.key(key));
    },
    async list(prefix: string) {
      const keys: string[] = [];
      for await (const item of store.list(store.key(prefix))) keys.push(item.key.slice(store.prefix.length));
      return keys.sort();
    },
    async delete(key: string) {
      const outcome = await store.delete(store.key(key), clock.now());
      if (outcome.status === 'locked') {
        throw new OperatorError(RetentionReasons.RetentionBatchFailed, `cannot delete archive object ${key}: ${outcome.message}`);
      }
    },
  };
}
