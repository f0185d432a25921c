// Writing a manifest so that it never points at a missing object and never replaces another one:
// a conditional PUT (If-None-Match: *), and when its outcome is ambiguous (a timeout, a cut
// connection, a 5xx the store may have answered after writing, or a retry refused with 412 because
// the first attempt landed) the key is read back: the bytes we sent mean it was written.
import { OperatorError, describeError, isOperatorError } from '../../errors.ts';
import { BackupReasons } from './reasons.ts';
import type { ObjectStore } from './ports.ts';

export type ManifestWriteOutcome = { status: 'written' } | { status: 'confirmed-by-read-back' };

/** Writes `body` at `key` unless the key is taken; resolves ambiguous failures by reading the key back. */
export async function writeManifest(store: ObjectStore, key: string, body: Buffer, signal?: AbortSignal): Promise<ManifestWriteOutcome> {
  try {
    await store.put(key, body, { contentType: 'application/json', ifNoneMatch: true, ...(signal === undefined ? {} : { signal }) });
    return { status: 'written' };
  } catch (error) {
    let existing: Buffer;
    try {
      existing = await store.getBuffer(key);
    } catch (readError) {
      if (isOperatorError(readError) && readError.reason === BackupReasons.ObjectNotFound) {
        // Not there: the write did not happen.
        throw isOperatorError(error) ? error : new OperatorError(BackupReasons.UploadFailed, `manifest ${store.name}:${key}: ${describeError(error)}`, { cause: error });
      }
      throw new OperatorError(
        BackupReasons.UploadFailed,
        `manifest ${store.name}:${key}: the write failed (${describeError(error)}) and reading it back failed too (${describeError(readError)})`,
        { cause: error, details: { manifestState: 'unknown' } },
      );
    }
    if (existing.equals(body)) return { status: 'confirmed-by-read-back' };
    throw new OperatorError(BackupReasons.AlreadyExists, `manifest ${store.name}:${key} already exists with other content; nothing was replaced`, { terminal: true, cause: error });
  }
}
