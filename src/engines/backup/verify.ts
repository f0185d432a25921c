// Re-reads a stored object and compares its SHA-256 and size with what was written.
import { OperatorError } from '../../errors.ts';
import { BackupReasons } from './reasons.ts';
import { sha256Of } from './streams.ts';
import type { ObjectStore } from './ports.ts';

export interface VerifyOutcome {
  sha256: string;
  bytes: number;
}

/** Throws ChecksumMismatch unless the object at `key` has exactly this digest and size. */
export async function verifyStoredObject(store: ObjectStore, key: string, expected: { sha256: string; bytes: number }, signal?: AbortSignal): Promise<VerifyOutcome> {
  const { body } = await store.get(key, signal === undefined ? {} : { signal });
  let actual: VerifyOutcome;
  try {
    actual = await sha256Of(body);
  } catch (error) {
    throw new OperatorError(BackupReasons.DownloadFailed, `reading ${store.name}:${key} to verify it failed: ${(error as Error).message}`, { cause: error });
  }
  if (actual.sha256 !== expected.sha256 || actual.bytes !== expected.bytes) {
    throw new OperatorError(
      BackupReasons.ChecksumMismatch,
      `${store.name}:${key} has SHA-256 ${actual.sha256.slice(0, 12)}… (${actual.bytes} bytes), expected ${expected.sha256.slice(0, 12)}… (${expected.bytes} bytes)`,
      { terminal: true, details: { actual, expected } },
    );
  }
  return actual;
}
