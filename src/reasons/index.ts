// Every reason the operator writes into a condition, an event or an OperatorError: the catalogs kept
// next to the code that raises them, collected into the `Reason` type (OperatorError and conditions take
// it, so a misspelled reason does not compile) and into the groups docs/conditions.md explains, with the
// condition types of every kind. `lokdarpan docs generate` writes the reason tables from here.
// Nothing a catalog imports may import this module.
import { CommonReasonCatalog } from './common.ts';
import { DatabaseConditions, DatabaseReasonCatalog } from '../controllers/lokdarpan-database/reasons.ts';
import { BackupPolicyReasonCatalog, BackupRunReasonCatalog, RestoreReasonCatalog } from '../controllers/backup/reasons.ts';
import { RetentionPolicyReasonCatalog } from '../controllers/retention-policy/reasons.ts';
import { DatabaseRefReasonCatalog, SecretReasonCatalog } from '../controllers/shared/reasons.ts';
import { RuntimeReasonCatalog } from '../runtime/reasons.ts';
import { MigrationReasonCatalog } from '../engines/migrations/reasons.ts';
import { BackupReasonCatalog } from '../engines/backup/reasons.ts';
import { RestoreEngineReasonCatalog } from '../engines/restore/reasons.ts';
import { RetentionReasonCatalog } from '../engines/retention/reasons.ts';
import { PreflightReasonCatalog } from '../engines/preflight/reasons.ts';
import { ViewReasonCatalog } from '../engines/views/reasons.ts';
import { ValidationReasonCatalog } from '../engines/validation/reasons.ts';
import { AgeReasonCatalog } from '../adapters/age/reasons.ts';
import { PgDumpReasonCatalog } from '../adapters/pgdump/reasons.ts';
import { S3ReasonCatalog } from '../adapters/s3/reasons.ts';
import { S3ProbeReasonCatalog } from '../adapters/s3/reasons.ts';
import type { ReasonCatalog } from './catalog.ts';

export interface ReasonGroup {
  /** Anchor of its section in docs/conditions.md. */
  id: string;
  title: string;
  /** The catalogs whose reasons the section's table lists. A reason is in exactly one catalog. */
  catalogs: readonly ReasonCatalog[];
}

/** The sections of docs/conditions.md that explain reasons, in order. */
export const REASON_GROUPS = [
  { id: 'common-reasons', title: 'Common reasons', catalogs: [CommonReasonCatalog] },
  { id: 'lokdarpandatabase-reasons', title: 'LokdarpanDatabase reasons', catalogs: [DatabaseReasonCatalog] },
  { id: 'migration-reasons', title: 'Migration reasons', catalogs: [MigrationReasonCatalog] },
  { id: 'view-and-validation-reasons', title: 'View and validation reasons', catalogs: [ViewReasonCatalog, ValidationReasonCatalog] },
  { id: 'backuppolicy-reasons', title: 'BackupPolicy reasons', catalogs: [BackupPolicyReasonCatalog] },
  { id: 'backup-reasons', title: 'Backup reasons', catalogs: [BackupRunReasonCatalog] },
  { id: 'restore-reasons', title: 'Restore reasons', catalogs: [RestoreReasonCatalog] },
  { id: 'backup-engine-reasons', title: 'Backup engine reasons', catalogs: [BackupReasonCatalog, RestoreEngineReasonCatalog, AgeReasonCatalog, PgDumpReasonCatalog, S3ReasonCatalog] },
  { id: 'preflight-reasons', title: 'Preflight reasons', catalogs: [PreflightReasonCatalog, S3ProbeReasonCatalog] },
  { id: 'retentionpolicy-reasons', title: 'RetentionPolicy reasons', catalogs: [RetentionPolicyReasonCatalog] },
  { id: 'retention-engine-reasons', title: 'Retention engine reasons', catalogs: [RetentionReasonCatalog] },
  { id: 'secret-and-connection-reasons', title: 'Secret and connection reasons', catalogs: [SecretReasonCatalog] },
  { id: 'database-reference-reasons', title: 'Database reference reasons', catalogs: [DatabaseRefReasonCatalog] },
  { id: 'runtime-reasons', title: 'Runtime reasons', catalogs: [RuntimeReasonCatalog] },
] as const satisfies readonly ReasonGroup[];

type GroupId = (typeof REASON_GROUPS)[number]['id'];
type CatalogOf<G> = G extends { catalogs: readonly (infer C)[] } ? C : never;
type KeysOf<C> = C extends unknown ? keyof C & string : never;

/** Every reason of every catalog. */
export type Reason = KeysOf<CatalogOf<(typeof REASON_GROUPS)[number]>>;

/** Condition types of each kind (the LokdarpanDatabase's come from its controller's catalog). */
export const KindConditions = {
  LokdarpanDatabase: Object.values(DatabaseConditions),
  BackupPolicy: ['Ready', 'Reconciling', 'Stalled', 'LastBackupSucceeded', 'Replicated', 'RestoreVerified', 'DestinationsReady', 'DatabaseReady', 'KeysReady', 'DestinationsOverlap'],
  Backup: ['Ready', 'Succeeded', 'Replicated'],
  Restore: ['Ready', 'Succeeded'],
  RetentionPolicy: ['Ready', 'Reconciling', 'Stalled', 'DestinationsReady', 'DatabaseReady'],
} as const satisfies Record<string, readonly string[]>;

export type KindName = keyof typeof KindConditions;

/** Which reason groups each kind's conditions can carry. */
export const KIND_REASON_GROUPS: Readonly<Record<KindName, readonly GroupId[]>> = {
  LokdarpanDatabase: ['common-reasons', 'lokdarpandatabase-reasons', 'migration-reasons', 'view-and-validation-reasons', 'secret-and-connection-reasons', 'runtime-reasons'],
  BackupPolicy: ['common-reasons', 'backuppolicy-reasons', 'preflight-reasons', 'backup-reasons', 'backup-engine-reasons', 'secret-and-connection-reasons', 'database-reference-reasons', 'runtime-reasons'],
  Backup: ['common-reasons', 'backup-reasons', 'backup-engine-reasons', 'secret-and-connection-reasons', 'database-reference-reasons', 'runtime-reasons'],
  Restore: ['common-reasons', 'restore-reasons', 'backup-reasons', 'backup-engine-reasons', 'secret-and-connection-reasons', 'database-reference-reasons', 'runtime-reasons'],
  RetentionPolicy: ['common-reasons', 'retentionpolicy-reasons', 'preflight-reasons', 'retention-engine-reasons', 'backup-engine-reasons', 'secret-and-connection-reasons', 'database-reference-reasons', 'runtime-reasons'],
};

/** Each reason with its meaning, in group order. */
export function reasonsOf(group: ReasonGroup): Array<[reason: string, meaning: string]> {
  return group.catalogs.flatMap((catalog) => Object.entries(catalog));
}

/** The meaning of a reason, or undefined for an unknown one. */
export function reasonMeaning(reason: string): string | undefined {
  for (const group of REASON_GROUPS) {
    for (const catalog of group.catalogs as readonly ReasonCatalog[]) if (Object.hasOwn(catalog, reason)) return catalog[reason];
  }
  return undefined;
}

export function isReason(value: unknown): value is Reason {
  return typeof value === 'string' && reasonMeaning(value) !== undefined;
}

/** A reason read back from a stored status (a string to the type checker), or `fallback` when it is none of the catalogs'. */
export function reasonOr(value: string | undefined, fallback: Reason): Reason {
  return isReason(value) ? value : fallback;
}
