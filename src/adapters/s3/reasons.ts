// Failure reasons of the S3 adapter (also in the backup engine's catalog, src/engines/backup/reasons.ts).
export const S3Reasons = {
  /** The endpoint did not answer (connection refused, DNS, timeout). */
  DestinationUnreachable: 'DestinationUnreachable',
  /** Writing an object failed (refused, aborted, or the source stream failed). */
  UploadFailed: 'UploadFailed',
  /** Reading an object failed. */
  DownloadFailed: 'DownloadFailed',
  /** The object does not exist. */
  ObjectNotFound: 'ObjectNotFound',
  /** Copying an object to another destination failed. */
  CopyFailed: 'CopyFailed',
  /** A conditional write (If-None-Match: *) found the key taken. */
  AlreadyExists: 'AlreadyExists',
  /** Deleting an object failed for another reason than Object Lock. */
  DeleteFailed: 'DeleteFailed',
} as const;

export type S3Reason = (typeof S3Reasons)[keyof typeof S3Reasons];
