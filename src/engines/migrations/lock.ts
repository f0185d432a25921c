// The cross-process migration lock: a session-level advisory lock taken with pg_try_advisory_lock on a
// dedicated session, polled until a deadline. Never the blocking pg_advisory_lock: a runner queued on it
// sits in a transaction that another runner's CREATE INDEX CONCURRENTLY must wait for (flyway#1654).
import type { Queryable } from '../../adapters/postgres/session.ts';
import type { Clock } from '../../clock.ts';
import { migrationError } from './errors.ts';
import { sha256Hex } from './source.ts';

/** Two int4 keys: pg_locks shows them as classid / objid with objsubid = 2. */
export type AdvisoryKey = readonly [number, number];

/** 'LKDP' as int4, and a key derived from the history table's name (two histories never share a lock). */
export function migrationLockKey(historyTable: string): AdvisoryKey {
  const digest = Buffer.from(sha256Hex(historyTable), 'hex');
  return [0x4c4b4450, digest.readInt32BE(0)];
}

export interface LockHolder {
  pid: number;
  applicationName: string;
  user: string | null;
  clientAddress: string | null;
  /** When the holder's session started (NULL when this role may not see it). */
  since: Date | null;
  state: string | null;
}

export async function findLockHolder(q: Queryable, key: AdvisoryKey): Promise<LockHolder | undefined> {
  const { rows } = await q.query<{
    pid: number;
    application_name: string | null;
    usename: string | null;
    client_addr: string | null;
    backend_start: Date | null;
    state: string | null;
  }>(
    `SELECT a.pid, a.application_name, a.usename, host(a.client_addr) AS client_addr, a.backend_start, a.state
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::int::oid AND l.objid = $2::int::oid AND l.objsubid = 2
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      LIMIT 1`,
    [key[0], key[1]],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    pid: r.pid,
    applicationName: r.application_name ?? '',
    user: r.usename,
    clientAddress: r.client_addr,
    since: r.backend_start,
    state: r.state,
  };
}

export function describeHolder(h: LockHolder | undefined): string {
  if (!h) return 'a session that released it while we looked';
  const parts = [`pid ${h.pid}`, `application_name "${h.applicationName}"`];
  if (h.user) parts.push(`user ${h.user}`);
  parts.push(`client ${h.clientAddress ?? 'local socket'}`);
  if (h.since) parts.push(`connected since ${h.since.toISOString()}`);
  return parts.join(', ');
}

export interface AcquireOptions {
  key: AdvisoryKey;
  /** How long to keep trying; 0 = one attempt. */
  timeoutMs: number;
  pollMs?: number;
  clock: Clock;
  sleep?: (ms: number) => Promise<void>;
  /** Called once when the first attempt finds the lock taken. */
  onWait?: (holder: LockHolder | undefined) => void;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Takes the lock on `session` (which must stay open while it is held), or throws MigrationLockBusy. */
export async function acquireMigrationLock(session: Queryable, options: AcquireOptions): Promise<void> {
  const { key, clock } = options;
  const sleep = options.sleep ?? realSleep;
  const pollMs = options.pollMs ?? 250;
  const deadline = clock.now().getTime() + options.timeoutMs;
  let warned = false;
  for (;;) {
    const { rows } = await session.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [key[0], key[1]]);
    if (rows[0]?.locked === true) return;
    const remaining = deadline - clock.now().getTime();
    if (!warned && options.onWait) {
      warned = true;
      options.onWait(await findLockHolder(session, key));
    }
    if (remaining <= 0) {
      const holder = await findLockHolder(session, key);
      throw migrationError(
        'MigrationLockBusy',
        `another migration runner holds the migration lock (${describeHolder(holder)}); gave up after ${options.timeoutMs} ms`,
        { holder: holder ? { ...holder, since: holder.since?.toISOString() ?? null } : null, timeoutMs: options.timeoutMs },
      );
    }
    await sleep(Math.min(pollMs, remaining));
  }
}

export async function releaseMigrationLock(session: Queryable, key: AdvisoryKey): Promise<void> {
  await session.query('SELECT pg_advisory_unlock($1, $2)', [key[0], key[1]]);
}
