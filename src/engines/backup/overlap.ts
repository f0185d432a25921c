// Destinations that share where backups are written: the same service, bucket and key folder. With
// owners in the key layout two policies there no longer overwrite or prune each other's backups, but
// the sharing is still worth a status line: it is usually a copy-paste mistake, and backups written
// before owners existed are then claimed by neither policy.
import { databaseFolder } from './manifest.ts';

export interface DestinationRef {
  /** What the caller calls it in a report, e.g. "prod/nightly primary". */
  id: string;
  /** S3 endpoint URL; unset or empty means AWS S3. */
  endpoint?: string;
  bucket: string;
  prefix?: string;
  database: string;
}

export interface DestinationOverlap {
  /** "endpoint s3://bucket/folder" of the shared (outermost) folder. */
  location: string;
  /** ids of the destinations writing there, sorted. */
  ids: string[];
}

function normalizedEndpoint(endpoint: string | undefined): string {
  const e = (endpoint ?? '').trim().toLowerCase().replace(/\/+$/, '');
  return e === '' ? 'aws' : e;
}

function folderOf(ref: DestinationRef): string {
  const raw = ref.prefix ?? '';
  const prefix = raw === '' || raw.endsWith('/') ? raw : `${raw}/`;
  return `${prefix}${databaseFolder(ref.database)}`;
}

/** Groups of destinations (two or more) whose database folders are equal or nested on one endpoint and bucket. */
export function findOverlappingDestinations(refs: readonly DestinationRef[]): DestinationOverlap[] {
  const located = refs.map((ref) => ({ ref, service: `${normalizedEndpoint(ref.endpoint)} s3://${ref.bucket}/`, folder: folderOf(ref) }));
  const groups = new Map<string, Set<string>>();
  for (const [i, a] of located.entries()) {
    for (const b of located.slice(i + 1)) {
      if (a.service !== b.service || a.ref.id === b.ref.id) continue;
      if (!a.folder.startsWith(b.folder) && !b.folder.startsWith(a.folder)) continue;
      const outer = a.folder.length <= b.folder.length ? a.folder : b.folder;
      const location = `${a.service}${outer}`;
      const ids = groups.get(location) ?? new Set<string>();
      ids.add(a.ref.id).add(b.ref.id);
      groups.set(location, ids);
    }
  }
  return [...groups].map(([location, ids]) => ({ location, ids: [...ids].sort() })).sort((x, y) => x.location.localeCompare(y.location));
}
