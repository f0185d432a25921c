// Reads of the same Secret at the same time (a burst of reconciles over databases sharing one password
// Secret) share one GET. With `ttlMs` > 0 a found Secret is also reused for that long after its GET
// started; the operator keeps 0: it may not list/watch Secrets, so nothing could invalidate a kept value,
// and a reconcile the user asks for right after deleting or editing a Secret must see that (the
// lifecycle integration test does exactly this). So a read gets the answer of a GET that was in flight
// when it started, never of one that had finished: at most one round trip old. Each caller gets its own
// copy; a failure is shared by the reads that joined it and not kept. `fresh` bypasses the cache and
// refreshes it.
import type { SecretReader } from './secrets.ts';

export interface SecretCacheOptions {
  /** How long a found Secret is reused after its GET started. Default 0: only while that GET is in flight. */
  ttlMs?: number;
  /** Milliseconds, monotonic. Default performance.now. */
  now?: () => number;
}

export interface CachedSecretReader extends SecretReader {
  /** Reads from the API server (never the cache) and keeps the answer for the cached reads. */
  readonly fresh: SecretReader;
}

interface Entry {
  at: number;
  done: boolean;
  data: Promise<Record<string, string> | undefined>;
}

export function cachedSecretReader(inner: SecretReader, options: SecretCacheOptions = {}): CachedSecretReader {
  const ttlMs = options.ttlMs ?? 0;
  const now = options.now ?? (() => performance.now());
  const entries = new Map<string, Entry>();

  const load = (key: string, namespace: string, name: string): Entry['data'] => {
    const entry: Entry = { at: now(), done: false, data: inner.read(namespace, name) };
    entries.set(key, entry);
    // Failures and absent Secrets are not kept: the next read asks again.
    entry.data.then(
      (data) => {
        entry.done = true;
        if ((data === undefined || ttlMs === 0) && entries.get(key) === entry) entries.delete(key);
      },
      () => {
        entry.done = true;
        if (entries.get(key) === entry) entries.delete(key);
      },
    );
    return entry.data;
  };

  const usable = (entry: Entry, at: number): boolean => !entry.done || at - entry.at < ttlMs;
  const sweep = (at: number): void => {
    for (const [key, entry] of entries) if (!usable(entry, at)) entries.delete(key);
  };

  // Every caller gets its own copy: a reconcile may not change what the next one reads.
  const copy = async (data: Entry['data']): Promise<Record<string, string> | undefined> => {
    const value = await data;
    return value && { ...value };
  };

  return {
    read(namespace, name) {
      const key = `${namespace}/${name}`;
      const at = now();
      const entry = entries.get(key);
      if (entry && usable(entry, at)) return copy(entry.data);
      sweep(at);
      return copy(load(key, namespace, name));
    },
    fresh: {
      read: (namespace, name) => copy(load(`${namespace}/${name}`, namespace, name)),
    },
  };
}
