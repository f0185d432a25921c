// Failure reasons of the age adapter.
import { reasonNames, type ReasonCatalog } from '../../reasons/catalog.ts';

export const AgeReasonCatalog = {
  DecryptionFailed: "No given identity matches the backup's recipients, or the payload failed authentication. Use the identity of a recipient listed in the manifest (`encryption.recipients`); see [key rotation](operations.md#rotate-the-backup-encryption-keys).",
  InvalidKey: 'A recipient (`age1...`) or identity (`AGE-SECRET-KEY-1...`) is malformed. Fix the key in the spec or the Secret.',
} as const satisfies ReasonCatalog;

export const AgeReasons = reasonNames(AgeReasonCatalog);
