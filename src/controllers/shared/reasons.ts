// Reasons of the Secrets, database connections and database references every controller reads.
import { reasonNames, type ReasonCatalog } from '../../reasons/catalog.ts';
import { CommonReasonCatalog } from '../../reasons/common.ts';

export const SecretReasonCatalog = {
  SecretNotFound: 'A Secret the resource names does not exist in its namespace. Create it (see `examples/`); the operator retries.',
  SecretKeyMissing: 'The Secret lacks a key (the message names it, e.g. `uri`, `identity`, `accessKeyId`). Add the key.',
  SecretAccessDenied: "The operator's ServiceAccount may not read Secrets in that namespace. Apply `manifests/base` (its ClusterRole grants `get` on Secrets), or bind the role in that namespace.",
  SecretReadFailed: 'The API server refused the read for another reason. Read the message; retried with backoff.',
  InvalidConnection: "The connection Secret's `uri` is not `postgres://...`, or `port` is not a port. Fix the Secret.",
} as const satisfies ReasonCatalog;

export const SECRET_REASONS = reasonNames(SecretReasonCatalog);
export const CONNECTION_REASONS = reasonNames({ ...SecretReasonCatalog, DatabaseUnavailable: CommonReasonCatalog.DatabaseUnavailable });

export const DatabaseRefReasonCatalog = {
  DatabaseNotFound: '`spec.databaseRef` names no LokdarpanDatabase in the namespace. Fix the name or create it.',
  DatabaseNotReady: "The LokdarpanDatabase has an invalid spec or (for retention) no ready schema yet. Look at that LokdarpanDatabase's conditions; retried.",
} as const satisfies ReasonCatalog;

export const DATABASE_REF_REASONS = reasonNames(DatabaseRefReasonCatalog);
