// Notices changes to the Secrets a policy's preflight read, without list/watch on Secrets (the
// operator's ClusterRole only grants get): every interval it reads each tracked Secret once, however
// many policies share it, and enqueues the policies whose Secret changed, appeared or went away
// since their last reconcile read it. Only hashes of the Secrets' data are kept.
import { createHash } from 'node:crypto';
import { describeError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../observability/logger.ts';
import type { SecretReader } from './secrets.ts';

/** The hash of a Secret's data, or MISSING when it does not exist. */
export const MISSING = 'missing';

export function secretHash(data: Record<string, string> | undefined): string {
  if (data === undefined) return MISSING;
  const sorted = Object.keys(data).sort().map((k) => [k, data[k]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

/** A SecretReader that remembers the hash of every Secret read through it. */
export function recordingSecretReader(inner: SecretReader): SecretReader & { seen: Map<string, string> } {
  const seen = new Map<string, string>();
  return {
    seen,
    async read(namespace, name) {
      const data = await inner.read(namespace, name);
      seen.set(name, secretHash(data));
      return data;
    },
  };
}

export interface SecretPollerOptions {
  secrets: SecretReader;
  /** Default 10 s. */
  intervalMs?: number;
  logger?: Logger;
}

export class SecretChangePoller {
  readonly name = 'referenced-secrets';
  readonly #secrets: SecretReader;
  readonly #intervalMs: number;
  readonly #logger: Logger;
  /** owner -> namespace and the hashes its last reconcile saw, by Secret name. */
  readonly #owners = new Map<string, { namespace: string; seen: Map<string, string> }>();
  readonly #listeners: Array<(owner: string) => void> = [];
  #timer: NodeJS.Timeout | undefined;
  #polling = false;

  constructor(options: SecretPollerOptions) {
    this.#secrets = options.secrets;
    this.#intervalMs = options.intervalMs ?? 10_000;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'secret-poller' });
  }

  /** Called with the owner key (e.g. "backuppolicy:ns/name") of each owner whose Secrets changed. */
  onChange(listener: (owner: string) => void): void {
    this.#listeners.push(listener);
  }

  /** Records what `owner`'s reconcile read (replacing what it read before). */
  track(owner: string, namespace: string, seen: ReadonlyMap<string, string>): void {
    if (seen.size === 0) this.#owners.delete(owner);
    else this.#owners.set(owner, { namespace, seen: new Map(seen) });
  }

  forget(owner: string): void {
    this.#owners.delete(owner);
  }

  /** Reads every tracked Secret once and notifies the owners whose Secrets changed. */
  async poll(): Promise<void> {
    const current = new Map<string, string | undefined>();
    for (const { namespace, seen } of this.#owners.values()) for (const name of seen.keys()) current.set(`${namespace}/${name}`, undefined);
    for (const ref of current.keys()) {
      const [namespace, name] = ref.split('/') as [string, string];
      try {
        current.set(ref, secretHash(await this.#secrets.read(namespace, name)));
      } catch (error) {
        // Unreadable now (RBAC, API server down): not a change; the owner's own reconcile reports it.
        this.#logger.debug({ secret: ref, error: describeError(error) }, 'could not re-read a Secret');
      }
    }
    for (const [owner, { namespace, seen }] of this.#owners) {
      const changed = [...seen].some(([name, hash]) => {
        const now = current.get(`${namespace}/${name}`);
        return now !== undefined && now !== hash;
      });
      if (!changed) continue;
      // Until the owner's reconcile records what it read, remember the new hashes: one notice per change.
      for (const name of seen.keys()) {
        const now = current.get(`${namespace}/${name}`);
        if (now !== undefined) seen.set(name, now);
      }
      this.#logger.debug({ owner }, 'a referenced Secret changed');
      for (const listener of this.#listeners) listener(owner);
    }
  }

  // The manager starts and stops it with the informers.
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      if (this.#polling) return;
      this.#polling = true;
      void this.poll().finally(() => (this.#polling = false));
    }, this.#intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  hasSynced(): boolean {
    return true;
  }

  async whenSynced(): Promise<void> {}
}
