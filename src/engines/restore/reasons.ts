// Failure reasons of the restore engine beyond the backup engine's (src/engines/backup/reasons.ts).
import { reasonNames, type ReasonCatalog } from '../../reasons/catalog.ts';

export const RestoreEngineReasonCatalog = {
  RestorePreflightFailed: "The new database (`spec.target.databaseName`) cannot be made as asked: the message lists what is missing (CREATEDB, an extension not in template1 and not trusted, a template1 that is not clean, an admin role's rights). Nothing was created. Grant what the message names, install the extension in template1 as a superuser, or set `spec.target.adminConnectionSecret`; see [the non-superuser restore](operations.md#restore-into-a-new-database-as-a-non-superuser).",
} as const satisfies ReasonCatalog;

export const RestoreEngineReasons = reasonNames(RestoreEngineReasonCatalog);
