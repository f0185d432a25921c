// Failure reasons of the S3 adapter.
import { reasonNames, type ReasonCatalog } from '../../reasons/catalog.ts';

export const S3ReasonCatalog = {
  DestinationUnreachable: 'The S3 endpoint did not answer. Check `endpoint`, DNS, network policies and egress.',
  UploadFailed: 'Writing an object failed (refused, aborted). Check credentials, bucket policy, quota; retried on the next run.',
  DownloadFailed: 'Reading an object failed. As UploadFailed, for reading.',
  ObjectNotFound: 'An object the manifest names is missing. The backup is incomplete (pruned or deleted by hand); use another one.',
  CopyFailed: "Copying to a replica failed. Check the replica's endpoint and credentials.",
  AlreadyExists: 'A backup with this id already has a manifest. Use another id (or Backup name).',
  DeleteFailed: 'Deleting an expired backup failed (Object Lock is reported as `BackupsLocked`, not this). Check the credentials may delete; retried after the next backup.',
} as const satisfies ReasonCatalog;

export const S3Reasons = reasonNames(S3ReasonCatalog);

export type S3Reason = keyof typeof S3ReasonCatalog;
