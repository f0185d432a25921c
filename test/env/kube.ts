// A throwaway Kubernetes control plane for integration tests, in the spirit of controller-runtime's envtest:
// a real etcd and kube-apiserver on loopback (RBAC on, static admin token, service-account signing keys), and
// optionally kube-controller-manager running only the garbage-collector and namespace controllers.
// No kubelet and no scheduler: pods never run. Binaries are found like envtest finds them (see findKubeBinaries).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, accessSync, constants as fsConstants } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { spawn } from 'node:child_process';
import { delimiter, join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { stringify as toYaml } from 'yaml';
import { registerCleanup, waitForExitSync } from './cleanup.ts';
import { cacheDir, freePort, makeTempDir, startProcess, type ManagedProcess } from './process.ts';

/** The Kubernetes version that `scripts/build-control-plane.sh` builds into the cache. */
export const KUBE_VERSION = 'v1.37.2';

/** Where `scripts/build-control-plane.sh` puts etcd, kube-apiserver, kube-controller-manager and kubectl. */
export const kubeCacheBinDir = join(cacheDir, 'bin', `k8s-${KUBE_VERSION}`);

export interface KubeBinaries {
  readonly etcd: string;
  readonly kubeApiserver: string;
  /** Undefined when it was not found (only needed with `kcm: true`). */
  readonly kubeControllerManager: string | undefined;
  readonly kubectl: string;
}

export interface KubeOptions {
  /** Start kube-controller-manager (garbage collector + namespace controller). Default true. */
  readonly kcm?: boolean;
  /**
   * CustomResourceDefinitions to create (and wait for `Established`) before kube-controller-manager
   * starts, so the garbage collector knows their kinds at once instead of after its ~30 s rediscovery.
   * A string is a file or directory of manifests, applied with `kubectl apply -f` (e.g. `'crds/'`). An object is
   * client-node's typed model: `x_kubernetes_validations`, `_default`, `_enum`, not the wire names, since the typed
   * serializer silently drops keys it does not know; turn YAML text into typed models with `k8s.loadAllYaml(text)`.
   */
  readonly crds?: readonly (k8s.V1CustomResourceDefinition | string)[];
  /** Time allowed for each component to become ready. Default 60 s. */
  readonly readyTimeoutMs?: number;
  /** Keep the temporary directory (data, certs, logs) after stop(). Default: env LOKDARPAN_KEEP_TMP set. */
  readonly keepDir?: boolean;
}

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RawResponse {
  readonly status: number;
  readonly body: string;
}

export interface KubeTimings {
  /** Spawn of etcd to its /health answering true. */
  readonly etcdReadyMs: number;
  /** Spawn of kube-apiserver to /readyz answering 200. */
  readonly apiserverReadyMs: number;
  /** Spawn of kube-controller-manager to its garbage collector having synced (0 without KCM). */
  readonly kcmReadyMs: number;
  /** The whole startKube() call. */
  readonly totalMs: number;
}

export interface KubeEnv {
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  /** PEM of the apiserver's self-signed serving certificate (and its CA): trust it to verify TLS. */
  readonly caFile: string;
  /** Bearer token of `admin` (group system:masters). */
  readonly adminToken: string;
  /** Kubeconfig acting as admin. */
  readonly kubeconfigPath: string;
  /** The temporary directory holding etcd data, certificates, kubeconfigs and logs. */
  readonly dir: string;
  readonly binaries: KubeBinaries;
  readonly timings: KubeTimings;
  /** A fresh admin KubeConfig (loaded from kubeconfigPath). */
  kubeConfig(): k8s.KubeConfig;
  /**
   * Creates the namespace and the ServiceAccount if needed, asks the TokenRequest API for a token (1 h) and
   * writes a kubeconfig that acts as `system:serviceaccount:<namespace>:<name>` (default namespace set).
   */
  serviceAccountKubeconfig(namespace: string, name: string): Promise<string>;
  /** Runs kubectl (admin kubeconfig unless opts.kubeconfig); never throws on a non-zero exit. */
  kubectl(args: string[], opts?: { kubeconfig?: string; input?: string; timeoutMs?: number }): Promise<KubectlResult>;
  /** A raw HTTPS request to the apiserver (TLS verified); `token: null` sends no credentials. */
  request(path: string, opts?: { method?: string; token?: string | null; body?: string; contentType?: string }): Promise<RawResponse>;
  /** Stops kube-apiserver and starts it again on the same port with the same etcd and certificates. */
  restartApiServer(): Promise<void>;
  /**
   * Restarts kube-controller-manager so its garbage collector rediscovers resource kinds at once (it
   * otherwise notices CRDs created after its start only after up to ~30 s). Throws without `kcm`.
   */
  restartControllerManager(): Promise<void>;
  /** Stops everything (KCM, apiserver, etcd) and removes the temporary directory. Idempotent. */
  stop(): Promise<void>;
}

const missingHint =
  'run `bash scripts/setup.sh` (it builds them into ' +
  kubeCacheBinDir +
  '), or point TEST_ASSET_ETCD / TEST_ASSET_KUBE_APISERVER / TEST_ASSET_KUBE_CONTROLLER_MANAGER / ' +
  'TEST_ASSET_KUBECTL or KUBEBUILDER_ASSETS at existing binaries';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** First executable among: $envVar, $KUBEBUILDER_ASSETS/name, the project cache, then (if allowed) PATH. */
function findBinary(name: string, envVar: string, searchPath: boolean): string | undefined {
  const explicit = process.env[envVar];
  if (explicit) {
    if (!isExecutable(explicit)) throw new Error(`${envVar}=${explicit} is not an executable file`);
    return explicit;
  }
  const candidates: string[] = [];
  const assets = process.env['KUBEBUILDER_ASSETS'];
  if (assets) candidates.push(join(assets, name));
  candidates.push(join(kubeCacheBinDir, name));
  if (searchPath) {
    for (const dir of (process.env['PATH'] ?? '').split(delimiter)) if (dir) candidates.push(join(dir, name));
  }
  return candidates.find(isExecutable);
}

/**
 * Finds the control-plane binaries like envtest: TEST_ASSET_ETCD, TEST_ASSET_KUBE_APISERVER,
 * TEST_ASSET_KUBE_CONTROLLER_MANAGER, TEST_ASSET_KUBECTL, then the KUBEBUILDER_ASSETS directory, then
 * `<cache>/bin/k8s-v1.37.2/` (kubectl also on PATH). Throws a message saying how to get them.
 */
export function findKubeBinaries(needKcm = true): KubeBinaries {
  const etcd = findBinary('etcd', 'TEST_ASSET_ETCD', false);
  const kubeApiserver = findBinary('kube-apiserver', 'TEST_ASSET_KUBE_APISERVER', false);
  const kubeControllerManager = findBinary('kube-controller-manager', 'TEST_ASSET_KUBE_CONTROLLER_MANAGER', false);
  const kubectl = findBinary('kubectl', 'TEST_ASSET_KUBECTL', true);
  const missing = [
    etcd ? undefined : 'etcd',
    kubeApiserver ? undefined : 'kube-apiserver',
    kubeControllerManager || !needKcm ? undefined : 'kube-controller-manager',
    kubectl ? undefined : 'kubectl',
  ].filter((x): x is string => x !== undefined);
  if (!etcd || !kubeApiserver || !kubectl || missing.length > 0) {
    throw new Error(`Kubernetes test binaries not found (${missing.join(', ')}): ${missingHint}`);
  }
  return { etcd, kubeApiserver, kubeControllerManager, kubectl };
}

/** Polls `check` until true; fails early (with the log tail) if `proc` exits, or after `timeoutMs`. */
async function waitReady(proc: ManagedProcess, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void proc.exited.then((code) => {
    exitCode = code;
  });
  let lastError = '';
  for (;;) {
    if (exitCode !== undefined) {
      throw new Error(`${proc.name} exited (code ${exitCode}) before it was ready; log ${proc.logFile}:\n${proc.tail(25)}`);
    }
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${proc.name} not ready after ${timeoutMs} ms (${lastError || 'no answer'}); log ${proc.logFile}:\n${proc.tail(25)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function rawRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; ca?: Buffer; timeoutMs?: number },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      u,
      { method: opts.method ?? 'GET', headers: opts.headers ?? {}, ...(opts.ca ? { ca: opts.ca } : {}), timeout: opts.timeoutMs ?? 5000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request to ${url} timed out`)));
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

function runCommand(
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number },
): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 : -1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.on('error', () => {}); // kubectl may exit before reading all input
    child.stdin.end(opts.input ?? '');
  });
}

function kubeconfigYaml(server: string, caFile: string, user: string, token: string, namespace?: string): string {
  return toYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'lokdarpan-test', cluster: { server, 'certificate-authority': caFile } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: user, context: { cluster: 'lokdarpan-test', user, ...(namespace ? { namespace } : {}) } }],
    'current-context': user,
  });
}

function statusCode(err: unknown): number | undefined {
  return err instanceof k8s.ApiException ? err.code : undefined;
}

async function ignoreConflict(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (statusCode(err) !== 409) throw err;
  }
}

/** Starts etcd, kube-apiserver and (unless `kcm: false`) kube-controller-manager. Call stop() in `after()`. */
export async function startKube(opts: KubeOptions = {}): Promise<KubeEnv> {
  const started = Date.now();
  const withKcm = opts.kcm ?? true;
  const timeoutMs = opts.readyTimeoutMs ?? 60_000;
  const binaries = findKubeBinaries(withKcm);
  const dir = await makeTempDir('kube');
  const certDir = join(dir, 'certs');
  const logDir = join(dir, 'logs');
  await Promise.all([mkdir(certDir), mkdir(logDir), mkdir(join(dir, 'etcd-data'))]);

  const procs: { etcd?: ManagedProcess; apiserver?: ManagedProcess; kcm?: ManagedProcess } = {};
  const keepDir = opts.keepDir ?? Boolean(process.env['LOKDARPAN_KEEP_TMP']);
  // If the test process exits (or is interrupted) without stop(), kill everything and remove the directory.
  const unregister = registerCleanup(() => {
    for (const p of [procs.kcm, procs.apiserver, procs.etcd]) {
      if (!p?.child.pid || p.child.exitCode !== null) continue;
      p.child.kill('SIGKILL');
      waitForExitSync(p.child.pid, 2_000);
    }
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  });
  let stopped = false;
  const stopAll = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    unregister();
    // KCM first (it would log connection errors otherwise), then the apiserver, then its storage.
    await procs.kcm?.stop(5_000);
    await procs.apiserver?.stop(10_000);
    await procs.etcd?.stop(5_000);
    if (!keepDir) await rm(dir, { recursive: true, force: true });
  };

  try {
    // etcd: client and peer ports on loopback, no fsync (test data only).
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const etcdArgs = [
      '--name=default',
      `--data-dir=${join(dir, 'etcd-data')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ];
    const etcdStart = Date.now();
    procs.etcd = (startProcess('etcd', binaries.etcd, etcdArgs, join(logDir, 'etcd.log')));

    // Credentials while etcd starts: a static admin token and the service-account signing key pair.
    const adminToken = randomBytes(24).toString('hex');
    const tokensFile = join(certDir, 'tokens.csv');
    await writeFile(tokensFile, `${adminToken},admin,admin-uid,"system:masters"\n`, { mode: 0o600 });
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    const saKey = join(certDir, 'sa.key');
    const saPub = join(certDir, 'sa.pub');
    await writeFile(saKey, privateKey, { mode: 0o600 });
    await writeFile(saPub, publicKey);

    await waitReady(procs.etcd, timeoutMs, async () => {
      const res = await rawRequest(`${etcdUrl}/health`, { timeoutMs: 2000 });
      return res.status === 200 && res.body.includes('"health":"true"');
    });
    const etcdReadyMs = Date.now() - etcdStart;

    // kube-apiserver: envtest's flags, static tokens instead of a client CA, loopback only.
    const server = `https://127.0.0.1:${apiPort}`;
    const apiArgs = [
      `--etcd-servers=${etcdUrl}`,
      `--cert-dir=${certDir}`,
      `--secure-port=${apiPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      '--endpoint-reconciler-type=none', // required on loopback since 1.3x
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      '--authorization-mode=RBAC',
      `--token-auth-file=${tokensFile}`,
      `--service-account-issuer=${server}`,
      `--service-account-key-file=${saPub}`,
      `--service-account-signing-key-file=${saKey}`,
      '--disable-admission-plugins=ServiceAccount',
      // Without it a graceful stop waits for open watches (KCM's, the operator's) until SIGKILL: a restart took
      // ~12 s instead of ~3 s.
      '--shutdown-watch-termination-grace-period=1s',
      '--anonymous-auth=false', // a request without credentials gets 401, not 403 as system:anonymous
    ];
    const apiLog = join(logDir, 'kube-apiserver.log');
    const caFile = join(certDir, 'apiserver.crt'); // written by kube-apiserver itself on first start
    const readyz = async (): Promise<boolean> => {
      if (!existsSync(caFile)) return false;
      const get = (path: string): Promise<RawResponse> =>
        rawRequest(`${server}${path}`, { headers: { authorization: `Bearer ${adminToken}` }, ca: readFileSync(caFile), timeoutMs: 3000 });
      // /readyz covers the RBAC bootstrap roles; the `default` namespace is created by a controller soon after.
      return (await get('/readyz')).status === 200 && (await get('/api/v1/namespaces/default')).status === 200;
    };
    const startApiserver = async (): Promise<number> => {
      const t0 = Date.now();
      const proc = (startProcess('kube-apiserver', binaries.kubeApiserver, apiArgs, apiLog));
      procs.apiserver = proc;
      await waitReady(proc, timeoutMs, readyz);
      return Date.now() - t0;
    };
    const apiserverReadyMs = await startApiserver();

    const kubeconfigPath = join(dir, 'admin.kubeconfig');
    await writeFile(kubeconfigPath, kubeconfigYaml(server, caFile, 'admin', adminToken), { mode: 0o600 });
    const kubeConfig = (): k8s.KubeConfig => {
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      return kc;
    };

    for (const crd of opts.crds ?? []) {
      if (typeof crd !== 'string') {
        await createCrd(kubeConfig(), crd, timeoutMs);
        continue;
      }
      const env = { ...process.env, KUBECONFIG: kubeconfigPath };
      const applied = await runCommand(binaries.kubectl, ['apply', '-f', crd], { env });
      if (applied.code !== 0) throw new Error(`kubectl apply -f ${crd} failed: ${applied.stderr.trim()}`);
      const waitArgs = ['wait', '--for=condition=Established', 'crd', '--all', `--timeout=${Math.ceil(timeoutMs / 1000)}s`];
      const established = await runCommand(binaries.kubectl, waitArgs, { env });
      if (established.code !== 0) throw new Error(`CRDs from ${crd} not Established: ${established.stderr.trim()}`);
      const all = await kubeConfig().makeApiClient(k8s.ApiextensionsV1Api).listCustomResourceDefinition();
      for (const item of all.items) await waitCrdServed(kubeConfig(), item, Date.now() + timeoutMs);
    }

    // kube-controller-manager with only the controllers that make sense without nodes.
    const kcmArgs = [
      `--kubeconfig=${kubeconfigPath}`,
      '--controllers=garbage-collector-controller,namespace-controller',
      '--leader-elect=false',
      '--secure-port=0',
    ];
    const kcmLog = join(logDir, 'kube-controller-manager.log');
    const startKcm = async (): Promise<number> => {
      if (!binaries.kubeControllerManager) throw new Error(`kube-controller-manager not found: ${missingHint}`);
      const offset = existsSync(kcmLog) ? statSync(kcmLog).size : 0; // the log is appended to across restarts
      const t0 = Date.now();
      const proc = (startProcess('kube-controller-manager', binaries.kubeControllerManager, kcmArgs, kcmLog));
      procs.kcm = proc;
      // The garbage collector logs once its resource monitors have synced; only then do cascades work.
      await waitReady(proc, timeoutMs, async () =>
        /resource monitors have synced/i.test(readFileSync(kcmLog).subarray(offset).toString('utf8')),
      );
      return Date.now() - t0;
    };
    const kcmReadyMs = withKcm ? await startKcm() : 0;

    const request: KubeEnv['request'] = (path, ropts = {}) => {
      const headers: Record<string, string> = {};
      const token = ropts.token === undefined ? adminToken : ropts.token;
      if (token !== null) headers['authorization'] = `Bearer ${token}`;
      if (ropts.body !== undefined) headers['content-type'] = ropts.contentType ?? 'application/json';
      return rawRequest(`${server}${path}`, {
        method: ropts.method ?? 'GET',
        headers,
        ca: readFileSync(caFile),
        ...(ropts.body !== undefined ? { body: ropts.body } : {}),
      });
    };

    const env: KubeEnv = {
      server,
      caFile,
      adminToken,
      kubeconfigPath,
      dir,
      binaries,
      timings: { etcdReadyMs, apiserverReadyMs, kcmReadyMs, totalMs: Date.now() - started },
      kubeConfig,
      async serviceAccountKubeconfig(namespace, name) {
        const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
        await ignoreConflict(core.createNamespace({ body: { metadata: { name: namespace } } }));
        await ignoreConflict(core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } }));
        const tr = await core.createNamespacedServiceAccountToken({
          name,
          namespace,
          body: { spec: { audiences: [], expirationSeconds: 3600 } },
        });
        const token = tr.status?.token;
        if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
        const path = join(dir, `sa-${namespace}-${name}.kubeconfig`);
        await writeFile(path, kubeconfigYaml(server, caFile, `${namespace}-${name}`, token, namespace), { mode: 0o600 });
        return path;
      },
      kubectl(args, kopts = {}) {
        return runCommand(binaries.kubectl, args, {
          env: { ...process.env, KUBECONFIG: kopts.kubeconfig ?? kubeconfigPath },
          ...(kopts.input !== undefined ? { input: kopts.input } : {}),
          ...(kopts.timeoutMs !== undefined ? { timeoutMs: kopts.timeoutMs } : {}),
        });
      },
      request,
      async restartApiServer() {
        if (stopped) throw new Error('the control plane is stopped');
        await procs.apiserver?.stop(10_000);
        await startApiserver();
      },
      async restartControllerManager() {
        if (stopped) throw new Error('the control plane is stopped');
        if (!withKcm) throw new Error('started with kcm: false: there is no kube-controller-manager to restart');
        await procs.kcm?.stop(5_000);
        await startKcm();
      },
      stop: stopAll,
    };
    return env;
  } catch (err) {
    await stopAll().catch(() => {});
    throw err;
  }
}

/**
 * Creates a CRD (or accepts that it exists) and waits until it is Established. `crd` must be client-node's typed
 * model (see KubeOptions.crds): a wire-form object (as parsed from YAML) loses its CEL rules, defaults and enums.
 */
export async function createCrd(kc: k8s.KubeConfig, crd: k8s.V1CustomResourceDefinition, timeoutMs = 30_000): Promise<void> {
  const api = kc.makeApiClient(k8s.ApiextensionsV1Api);
  await ignoreConflict(api.createCustomResourceDefinition({ body: crd }));
  const name = crd.metadata?.name;
  if (!name) throw new Error('a CRD needs metadata.name');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await api.readCustomResourceDefinition({ name });
    if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
    if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await waitCrdServed(kc, await api.readCustomResourceDefinition({ name }), deadline);
}

/**
 * Waits until the watch cache of each served version answers. Right after `Established`, kube-apiserver still
 * answers watches and `resourceVersion=0` lists of the new resource with 429 for about a second (and the first
 * create waits ~2 s): a client-node informer started then stops for good.
 */
async function waitCrdServed(kc: k8s.KubeConfig, crd: k8s.V1CustomResourceDefinition, deadline: number): Promise<void> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const group = crd.spec.group;
  const plural = crd.spec.names.plural;
  for (const { name: version } of crd.spec.versions.filter((v) => v.served)) {
    for (;;) {
      try {
        await custom.listClusterCustomObject({ group, version, plural, resourceVersion: '0', limit: 1 });
        break;
      } catch (err) {
        if (statusCode(err) !== 429 && statusCode(err) !== 404) throw err;
      }
      if (Date.now() > deadline) throw new Error(`${plural}.${group}/${version} not served after Established`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
