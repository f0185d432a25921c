// S3 / S3-compatible object store adapter.
export { S3Reasons, type S3Reason } from './reasons.ts';
export { s3Error } from './errors.ts';
export {
  createS3Client, DEFAULT_PART_SIZE, MIN_PART_SIZE, S3ObjectStore,
  type CopyMethod, type CopySource, type CopyOptions, type CopyResult, type DeleteOutcome, type ListedObject, type ObjectInfo, type S3Credentials, type S3StoreConfig,
  type StoredObject, type UploadOptions,
} from './store.ts';
export { PROBE_DIRECTORY, S3ProbeReasons, STALE_PROBE_MS, probeStore, probeWrittenAt, type DestinationProbeReport } from './probe.ts';
