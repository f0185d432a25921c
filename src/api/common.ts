// Schema pieces shared by every resource: references, S3 destinations, conditions and status basics.
import * as z from 'zod';

export const GROUP = 'lokdarpan.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export const objectNameSchema = (description: string) =>
  z.string().min(1).max(253).regex(DNS_SUBDOMAIN, { message: 'must be a Kubernetes object name (lowercase letters, digits, - and .)' }).describe(description);

export const localObjectReferenceSchema = (description: string) =>
  z.object({ name: objectNameSchema('Name of the object in the same namespace.') }).describe(description);

export const secretKeySelectorSchema = (description: string, defaultKey?: string) =>
  z
    .object({
      name: objectNameSchema('Name of the Secret in the same namespace.'),
      key: defaultKey === undefined
        ? z.string().min(1).max(253).describe('Key inside the Secret.')
        : z.string().min(1).max(253).default(defaultKey).describe(`Key inside the Secret (default "${defaultKey}").`),
    })
    .describe(description);

export const s3DestinationSchema = z
  .object({
    name: z.string().min(1).max(63).regex(DNS_LABEL).describe('Short name of this destination, used in status and metrics (for example "primary" or "dr-mumbai").'),
    bucket: z.string().min(3).max(63).describe('Bucket name.'),
    prefix: z.string().max(512).default('').describe('Key prefix under which objects are written, for example "lokdarpan/prod/".'),
    endpoint: z.string().max(2048).optional().describe('S3 endpoint URL for S3-compatible stores (MinIO, SeaweedFS, Ceph). Empty means AWS S3 for the region.'),
    region: z.string().min(1).max(64).default('us-east-1').describe('Region of the bucket; requests are signed for it.'),
    forcePathStyle: z.boolean().default(false).describe('Use path-style URLs (https://endpoint/bucket/key), which most S3-compatible stores need.'),
    checksums: z
      .enum(['WHEN_SUPPORTED', 'WHEN_REQUIRED'])
      .default('WHEN_SUPPORTED')
      .describe('Request checksums: WHEN_SUPPORTED (CRC32 on every upload, the AWS SDK default) or WHEN_REQUIRED (for S3-compatible stores that reject them).'),
    credentialsSecret: objectNameSchema(
      'Secret holding "accessKeyId" and "secretAccessKey" (and optionally "sessionToken") for this destination.',
    ),
  })
  .describe('An S3 or S3-compatible bucket location with its credentials.');

export type S3Destination = z.infer<typeof s3DestinationSchema>;

/**
 * A destination a policy writes to, with the bucket settings it must have. The preflight check reads
 * them (no write needed) and fails with DestinationSettingsMismatch when one is missing.
 */
export const policyDestinationSchema = s3DestinationSchema
  .extend({
    requireVersioning: z
      .boolean()
      .default(false)
      .describe('The bucket must have versioning Enabled (not Off or Suspended); DestinationsReady and Ready stay False (reason DestinationSettingsMismatch) until it has.'),
    requireObjectLock: z
      .boolean()
      .default(false)
      .describe('The bucket must have Object Lock enabled (it needs versioning on); DestinationsReady and Ready stay False (reason DestinationSettingsMismatch) until it has.'),
  })
  .describe('An S3 or S3-compatible bucket location with its credentials, and the bucket settings it must have.');

export type PolicyDestination = z.infer<typeof policyDestinationSchema>;

export const conditionSchema = z
  .object({
    type: z.string().max(316).describe('Type of the condition, for example Ready.'),
    status: z.enum(['True', 'False', 'Unknown']).describe('Status of the condition.'),
    reason: z.string().max(1024).describe('CamelCase reason for the last transition (see docs/conditions.md).'),
    message: z.string().max(32768).describe('Human-readable explanation.'),
    observedGeneration: z.number().int().min(0).optional().describe('metadata.generation the condition was computed from.'),
    lastTransitionTime: z.string().describe('Last time the status changed (RFC 3339).'),
  })
  .describe('A standard Kubernetes condition.');

export type Condition = z.infer<typeof conditionSchema>;

export const conditionsSchema = z
  .array(conditionSchema)
  .meta({ description: 'Conditions, one per type.', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }>;
}

/** A custom resource as read from the API server: spec validated by its zod schema, status loosely typed. */
export interface Resource<Spec, Status> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: Spec;
  status?: Status;
}
