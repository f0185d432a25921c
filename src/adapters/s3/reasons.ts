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

/** Reasons of a destination probe (docs/conditions.md lists them with the preflight reasons). */
export const S3ProbeReasonCatalog = {
  DestinationCredentialsRejected: "The endpoint rejected the access key or the signature. Fix `accessKeyId` / `secretAccessKey` in the destination's credentials Secret.",
  BucketNotFound: 'The bucket does not exist. Create it, or fix `bucket` (and `endpoint`, `region`).',
  DestinationAccessDenied: 'The credentials are valid but may not write, read or delete under the prefix (the message says which). Grant s3:PutObject, s3:GetObject and s3:DeleteObject on `<bucket>/<prefix>*` (Write and Read for SeaweedFS).',
  DestinationProbeFailed: 'The probe failed otherwise, or read back different bytes. Read the message; check the endpoint and any proxy.',
} as const satisfies ReasonCatalog;

export const S3ProbeReasons = reasonNames(S3ProbeReasonCatalog);
