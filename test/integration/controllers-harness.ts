// Shared by the controllers-backup*/controllers-retention* integration tests: the LokdarpanDatabase
// operator harness (kube-apiserver with the CRDs and RBAC, PostgreSQL, the operator as a child process
// under its ServiceAccount) plus two S3 regions, an age key pair, the Secrets the backup resources
// need, generic readers for every lokdarpan kind, a pg_dump wrapper the tests can make slow or fail,
// and a secret-leak check over logs, events and the statuses of every kind.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, symlinkSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { startTwoRegions, pgBinDir, type S3Server, type PgMajor } from '../env/index.ts';
import { generateIdentity } from '../../src/adapters/age/index.ts';
import { isNotFound } from '../../src/runtime/kube.ts';
import {
  startOperatorHarness,
  type Condition,
  type KubeEventView,
  type OperatorHarness,
  type OperatorProcess,
  type StartOperatorOptions,
} from './operator-harness.ts';

export { eventually, sleep, uniqueName } from './operator-harness.ts';
export type { Condition, OperatorProcess } from './operator-harness.ts';

export const API = '/apis/lokdarpan.io/v1alpha1';
export type Plural = 'backuppolicies' | 'backups' | 'restores' | 'retentionpolicies' | 'lokdarpandatabases';

export interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; generation?: number; labels?: Record<string, string>; annotations?: Record<string, string>; creationTimestamp?: string };
  spec?: Record<string, unknown>;
  // Statuses are read loosely: each test names the fields it checks.
  status?: Record<string, any>;
}

export interface ControllersEnv {
  h: OperatorHarness;
  s3: { primary: S3Server; secondary: S3Server };
  major: PgMajor;
  /** age key pair the policies encrypt to; the identity is in Secret `age-identity` (key `identity`). */
  key: { identity: string; recipient: string };
  /** A second key pair whose identity (Secret `wrong-identity`) matches no recipient. */
  wrongKey: { identity: string; recipient: string };
  /** Secret `superuser-db`: uri = superuser URL to the `postgres` database (for Restore targets and drills). */
  superuserSecret: string;
  /** Directory with a pg_dump wrapper (see pgDumpControl) and the real pg_restore, for LOKDARPAN_PG_BIN_DIRS. */
  wrapperDir: string;
  startOperator(opts?: StartOperatorOptions): Promise<OperatorProcess>;
  /** An S3 destination of a BackupPolicy / RetentionPolicy over one of the servers (credentials Secret s3-<server>). */
  destination(server: 'primary' | 'secondary', name: string, bucket: string, prefix?: string): Record<string, unknown>;
  /**
   * A BackupPolicy of LokdarpanDatabase `database` in the test namespace, encrypted to `key`, on a schedule
   * that is a year away (the tests run it with Backups); `spec` adds or overrides fields.
   */
  backupPolicy(name: string, database: string, spec: Record<string, unknown>): object;
  get(plural: Plural, name: string): Promise<Obj | undefined>;
  list(plural: Plural): Promise<Obj[]>;
  waitFor(plural: Plural, name: string, what: string, predicate: (o: Obj) => boolean, timeoutMs?: number): Promise<Obj>;
  /** Waits until a Backup or Restore is Completed or Failed. */
  finished(plural: 'backups' | 'restores', name: string, timeoutMs?: number): Promise<Obj>;
  /** Applies a Backup of `policy` (spec fields over policyRef) and waits until it is Completed or Failed. */
  runBackup(name: string, policy: string, spec?: Record<string, unknown>): Promise<Obj>;
  apply(manifest: object): Promise<void>;
  /** kubectl apply that must fail; returns stderr. */
  applyRefused(manifest: object): Promise<string>;
  delete(plural: Plural, name: string): Promise<void>;
  events(name?: string): Promise<KubeEventView[]>;
  /** Keys in a bucket (all pages). */
  keys(server: 'primary' | 'secondary', bucket: string, prefix?: string): Promise<string[]>;
  getObject(server: 'primary' | 'secondary', bucket: string, key: string): Promise<Buffer>;
  client(server: 'primary' | 'secondary'): S3Client;
  /** A LokdarpanDatabase (app role Secret) migrated by the operator to Ready; returns its names. */
  readyDatabase(name: string): Promise<{ name: string; dbName: string; url: string }>;
  /** Fails if any tracked secret appears in an operator log, an Event, or any lokdarpan resource. */
  assertNoSecretsLeaked(): Promise<void>;
  /** Extra values that must never appear. */
  trackSecret(value: string): void;
  stop(): Promise<void>;
}

export function condition(o: Obj | undefined, type: string): Condition | undefined {
  return (o?.status?.['conditions'] as Condition[] | undefined)?.find((c) => c.type === type);
}

/** A Backup or Restore that has ended, either way. */
export function isFinished(o: Obj): boolean {
  return o.status?.['phase'] === 'Completed' || o.status?.['phase'] === 'Failed';
}

export function describe(o: Obj | undefined): string {
  if (!o) return '(not found)';
  return `${o.kind ?? ''} ${o.metadata.namespace}/${o.metadata.name}: ${JSON.stringify(o.status ?? {}, null, 1).slice(0, 3000)}`;
}

/**
 * The pg_dump wrapper reads control files in its directory: `fail` (run the real pg_dump, then exit 1),
 * `sleep-after` (seconds to sleep after the real pg_dump finished, before exiting with its code: the
 * upload is then open, waiting for the end of the stream; the wrapper creates `dumped` when that sleep
 * begins, see `pgDumpDone`), `throttle` (seconds over which the dump's
 * output is released, in 20 even pieces, so a small database dumps slowly). The pg_restore wrapper:
 * `restore-sleep-before` (seconds before pg_restore starts to read its input: the download fills the
 * buffers and waits). `--version` always passes straight through.
 */
export function pgDumpControl(dir: string, control: { fail?: boolean; sleepAfter?: number; throttle?: number; restoreSleepBefore?: number }): void {
  for (const file of ['fail', 'sleep-after', 'dumped', 'throttle', 'restore-sleep-before']) rmSync(join(dir, file), { force: true });
  if (control.fail) writeFileSync(join(dir, 'fail'), '1\n');
  if (control.sleepAfter) writeFileSync(join(dir, 'sleep-after'), `${control.sleepAfter}\n`);
  if (control.throttle) writeFileSync(join(dir, 'throttle'), `${control.throttle}\n`);
  if (control.restoreSleepBefore) writeFileSync(join(dir, 'restore-sleep-before'), `${control.restoreSleepBefore}\n`);
}

/** True once a pg_dump run under `sleepAfter` has written its whole dump and holds its output open. */
export function pgDumpDone(dir: string): boolean {
  return existsSync(join(dir, 'dumped'));
}

function makeWrapperDir(root: string, major: PgMajor): string {
  const dir = join(root, `pg-wrapper-${major}`);
  mkdirSync(dir, { recursive: true });
  const real = pgBinDir(major);
  const script = `#!/bin/sh
# Test wrapper around the real pg_dump (see controllers-harness.ts pgDumpControl).
here=$(dirname "$0")
case "$1" in --version|-V) exec "${real}/pg_dump" "$@" ;; esac
if [ -f "$here/throttle" ]; then
  tmp=$(mktemp)
  "${real}/pg_dump" "$@" > "$tmp"
  rc=$?
  size=$(wc -c < "$tmp")
  bs=$((size / 20 + 1))
  pause=$(awk "BEGIN { print $(cat "$here/throttle") / 20 }")
  i=0
  while [ $((i * bs)) -lt "$size" ]; do
    dd if="$tmp" bs="$bs" skip="$i" count=1 2>/dev/null
    i=$((i + 1))
    sleep "$pause"
  done
  rm -f "$tmp"
else
  "${real}/pg_dump" "$@"
  rc=$?
fi
if [ -f "$here/sleep-after" ]; then touch "$here/dumped"; sleep "$(cat "$here/sleep-after")"; fi
if [ -f "$here/fail" ]; then echo "pg_dump: error: simulated failure by the test wrapper" >&2; exit 1; fi
exit $rc
`;
  writeFileSync(join(dir, 'pg_dump'), script);
  chmodSync(join(dir, 'pg_dump'), 0o755);
  const restoreScript = `#!/bin/sh
# Test wrapper around the real pg_restore (see controllers-harness.ts pgDumpControl).
here=$(dirname "$0")
case "$1" in --version|-V) exec "${real}/pg_restore" "$@" ;; esac
if [ -f "$here/restore-sleep-before" ]; then sleep "$(cat "$here/restore-sleep-before")"; fi
exec "${real}/pg_restore" "$@"
`;
  rmSync(join(dir, 'pg_restore'), { force: true });
  writeFileSync(join(dir, 'pg_restore'), restoreScript);
  chmodSync(join(dir, 'pg_restore'), 0o755);
  for (const tool of ['psql']) {
    rmSync(join(dir, tool), { force: true });
    symlinkSync(join(real, tool), join(dir, tool));
  }
  return dir;
}

export async function startControllersEnv(options: { buckets?: { primary?: string[]; secondary?: string[]; locked?: string[] } } = {}): Promise<ControllersEnv> {
  const [hResult, s3Result] = await Promise.allSettled([startOperatorHarness(), startTwoRegions()]);
  if (hResult.status === 'rejected' || s3Result.status === 'rejected') {
    if (hResult.status === 'fulfilled') await hResult.value.stop();
    if (s3Result.status === 'fulfilled') await Promise.all([s3Result.value.primary.stop(), s3Result.value.secondary.stop()]);
    throw hResult.status === 'rejected' ? hResult.reason : (s3Result as PromiseRejectedResult).reason;
  }
  const h = hResult.value;
  const s3 = s3Result.value;
  const ns = h.namespace;
  const major = h.pg.major;
  const key = generateIdentity();
  const wrongKey = generateIdentity();
  const extraSecrets = new Set<string>([key.identity, wrongKey.identity, s3.primary.secretAccessKey, s3.secondary.secretAccessKey, h.pg.superuser.password]);
  const wrapperDir = makeWrapperDir(h.kube.dir, major);
  const clients = { primary: s3.primary.client(), secondary: s3.secondary.client() };

  const apply = async (manifest: object): Promise<void> => {
    await h.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
  };
  const secret = (name: string, stringData: Record<string, string>): Promise<void> =>
    apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, type: 'Opaque', stringData });

  try {
    await Promise.all([
      ...(options.buckets?.primary ?? []).map((b) => s3.primary.createBucket(b)),
      ...(options.buckets?.locked ?? []).map((b) => s3.primary.createBucket(b, { objectLock: true })),
      ...(options.buckets?.secondary ?? []).map((b) => s3.secondary.createBucket(b)),
    ]);
    for (const [name, server] of [['s3-primary', s3.primary], ['s3-secondary', s3.secondary]] as const) {
      await secret(name, { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey });
    }
    await secret('age-identity', { identity: key.identity });
    await secret('wrong-identity', { identity: wrongKey.identity });
    await secret('superuser-db', { uri: h.pg.url(h.pg.superuser.user, h.pg.superuser.password, 'postgres') });
  } catch (error) {
    await h.stop();
    await Promise.all([s3.primary.stop(), s3.secondary.stop()]);
    throw error;
  }

  const path = (plural: Plural, name?: string): string => `${API}/namespaces/${ns}/${plural}${name ? `/${name}` : ''}`;
  const get = async (plural: Plural, name: string): Promise<Obj | undefined> => {
    try {
      return await h.client.get<Obj>(path(plural, name));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  };

  const env: ControllersEnv = {
    h,
    s3,
    major,
    key,
    wrongKey,
    superuserSecret: 'superuser-db',
    wrapperDir,
    startOperator(opts = {}) {
      return h.startOperator({ ...opts, env: { LOKDARPAN_PG_BIN_DIRS: `${major}=${wrapperDir}`, ...opts.env } });
    },
    destination(server, name, bucket, prefix = 'lokdarpan/') {
      return {
        name,
        bucket,
        prefix,
        endpoint: s3[server].endpoint,
        region: s3[server].region,
        forcePathStyle: true,
        checksums: 'WHEN_REQUIRED',
        credentialsSecret: `s3-${server}`,
      };
    },
    backupPolicy(name, database, spec) {
      return {
        apiVersion: 'lokdarpan.io/v1alpha1',
        kind: 'BackupPolicy',
        metadata: { name, namespace: ns },
        spec: { databaseRef: { name: database }, schedule: '0 0 1 1 *', recipients: [key.recipient], ...spec },
      };
    },
    get,
    async list(plural) {
      return (await h.client.get<{ items: Obj[] }>(path(plural))).items;
    },
    waitFor(plural, name, what, predicate, timeoutMs) {
      return h.waitForObject(`${plural}/${name}: ${what}`, () => get(plural, name), predicate, describe, timeoutMs);
    },
    finished(plural, name, timeoutMs) {
      return env.waitFor(plural, name, 'Completed or Failed', isFinished, timeoutMs);
    },
    async runBackup(name, policy, spec = {}) {
      await apply({ apiVersion: 'lokdarpan.io/v1alpha1', kind: 'Backup', metadata: { name, namespace: ns }, spec: { policyRef: { name: policy }, ...spec } });
      return env.finished('backups', name);
    },
    apply,
    async applyRefused(manifest) {
      const r = await h.kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
      assert.notEqual(r.code, 0, `kubectl apply should have been refused: ${r.stdout}`);
      return r.stderr;
    },
    async delete(plural, name) {
      await h.kubectlOk(['delete', plural, name, '-n', ns, '--ignore-not-found']);
    },
    events: (name) => h.events(ns, name),
    async keys(server, bucket, prefix = '') {
      const out: string[] = [];
      let token: string | undefined;
      do {
        const r = await clients[server].send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
        for (const o of r.Contents ?? []) if (o.Key) out.push(o.Key);
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
      return out.sort();
    },
    async getObject(server, bucket, key) {
      const r = await clients[server].send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await r.Body!.transformToByteArray());
    },
    client: (server) => clients[server],
    async readyDatabase(name) {
      const applied = await h.applyDatabase({ name });
      await env.waitFor('lokdarpandatabases', name, 'Ready', (o) => condition(o, 'Ready')?.status === 'True');
      return { name, dbName: applied.db.name, url: applied.db.url };
    },
    trackSecret(value) {
      extraSecrets.add(value);
    },
    async assertNoSecretsLeaked() {
      // The harness checks operator logs, events and LokdarpanDatabases for the database passwords.
      await h.assertNoSecretsLeaked();
      const logs = h.operators.map((o) => [`log of ${o.name}`, o.log()] as const);
      const haystacks: (readonly [string, string])[] = [
        ...logs,
        ['events', await h.kubectlOk(['get', 'events', '-A', '-o', 'json'])],
        ['events.k8s.io', await h.kubectlOk(['get', 'events.v1.events.k8s.io', '-A', '-o', 'json'])],
      ];
      for (const plural of ['backuppolicies', 'backups', 'restores', 'retentionpolicies', 'lokdarpandatabases'] as const) {
        haystacks.push([plural, await h.kubectlOk(['get', plural, '-A', '-o', 'json'])]);
      }
      assert.ok(logs.some(([, l]) => l.length > 0), 'the operators wrote no log at all');
      for (const value of extraSecrets) {
        for (const [where, text] of haystacks) {
          assert.ok(!text.includes(value), `a secret (${value.slice(0, 4)}..., ${value.length} characters) appears in ${where}`);
        }
      }
    },
    async stop() {
      clients.primary.destroy();
      clients.secondary.destroy();
      await Promise.allSettled([h.stop(), s3.primary.stop(), s3.secondary.stop()]);
    },
  };
  return env;
}

/** Waits until the wall clock's second-of-minute is at least `second` (in this minute, or the next one). */
export async function untilSecondOfMinute(second: number): Promise<void> {
  const now = new Date();
  let wait = (second - now.getUTCSeconds()) * 1000 - now.getUTCMilliseconds();
  if (wait < 0) wait += 60_000;
  await new Promise((r) => setTimeout(r, wait));
}
