// Failure reasons of the age adapter. They are a subset of the backup engine's catalog
// (src/engines/backup/reasons.ts), repeated here so the adapter does not depend on an engine.
export const AgeReasons = {
  /** A recipient or identity string is malformed. */
  InvalidKey: 'InvalidKey',
  /** The input is not an age file, no identity matches, or the payload fails authentication (corrupt or truncated). */
  DecryptionFailed: 'DecryptionFailed',
} as const;
