// Failure reasons of the restore engine beyond the backup engine's catalog (src/engines/backup/reasons.ts).
export const RestoreEngineReasons = {
  /** A new target database cannot be made as asked (privilege, extension or template missing); nothing was created. */
  RestorePreflightFailed: 'RestorePreflightFailed',
} as const;
