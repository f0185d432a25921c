// The operator image run like a pod, with podman + runc (no Docker engine on the development machine):
// built by scripts/build-image.sh, started with what a kubelet gives the Deployment of manifests/base —
// the ServiceAccount token, CA and namespace at /var/run/secrets/kubernetes.io/serviceaccount,
// KUBERNETES_SERVICE_HOST/PORT, a read-only root with a tmpfs /tmp, uid 65532, no capabilities, no
// privilege escalation, the Deployment's memory limit — on the host network (the test servers listen on
// loopback). Each container is an OperatorProcess of the operator harness, so its log, /metrics and
// the harness's secret-leak check work as for a child process.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { registerCleanup } from '../env/cleanup.ts';
import { freePort, repoRoot, startProcess } from '../env/index.ts';
import { OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT, operatorReader, type OperatorHarness, type OperatorProcess } from './operator-harness.ts';

export const IMAGE = 'ghcr.io/lokdarpan/lokdarpan-operator:0.1.0';
/** crun (podman's default) refuses this machine kind's hybrid cgroups; runc with cgroupfs works. */
export const PODMAN_GLOBAL = ['--runtime', '/usr/sbin/runc', '--cgroup-manager=cgroupfs'];
/** Limits may not be raised in this sandbox: give ones at or below the shell's. */
const ULIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function podman(args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('podman', [...PODMAN_GLOBAL, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Why podman cannot run containers here (undefined when it can): the only reason to skip the image tests. */
export function podmanProblem(): string | undefined {
  const version = spawnSync('podman', ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) return 'podman is not installed (bash scripts/setup.sh installs podman, buildah and runc)';
  const info = spawnSync('podman', [...PODMAN_GLOBAL, 'info', '--format', '{{.Host.OCIRuntime.Name}}'], { encoding: 'utf8', timeout: 60_000 });
  if (info.status !== 0) return `podman cannot run here: ${(info.stderr || info.error?.message || '').trim().split('\n').slice(-2).join(' ')}`;
  return undefined;
}

/** Runs scripts/build-image.sh (cached layers make a rebuild after a source change take seconds). */
export async function buildImage(): Promise<{ id: string; seconds: number; log: string }> {
  const started = Date.now();
  const result = await new Promise<CommandResult>((resolve) => {
    const child = spawn('bash', [join(repoRoot, 'scripts/build-image.sh'), '--tag', IMAGE], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
  if (result.code !== 0) throw new Error(`scripts/build-image.sh failed (${result.code}):\n${result.stdout.slice(-3000)}\n${result.stderr.slice(-3000)}`);
  const id = result.stdout.trim().split('\n').at(-1) ?? '';
  return { id, seconds: (Date.now() - started) / 1000, log: result.stdout };
}

/** What manifests/base/deployment.yaml gives the operator container. */
export interface DeploymentFacts {
  memoryLimitBytes: number;
  /** terminationGracePeriodSeconds (Kubernetes' default 30 when unset). */
  graceSeconds: number;
  runAsUser: number;
  readOnlyRootFilesystem: boolean;
  dropsAllCapabilities: boolean;
}

export function deploymentFacts(): DeploymentFacts {
  const doc = parseYaml(readFileSync(join(repoRoot, 'manifests/base/deployment.yaml'), 'utf8')) as {
    spec: { template: { spec: { terminationGracePeriodSeconds?: number; securityContext?: { runAsUser?: number }; containers: Array<{ resources?: { limits?: { memory?: string } }; securityContext?: { readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[] } } }> } } };
  };
  const pod = doc.spec.template.spec;
  const container = pod.containers[0];
  const memory = container?.resources?.limits?.memory ?? '';
  const m = /^(\d+)(Mi|Gi)$/.exec(memory);
  if (!m) throw new Error(`manifests/base/deployment.yaml: memory limit "${memory}" is not NNNMi/NNGi`);
  return {
    memoryLimitBytes: Number(m[1]) * (m[2] === 'Gi' ? 1024 ** 3 : 1024 ** 2),
    graceSeconds: pod.terminationGracePeriodSeconds ?? 30,
    runAsUser: pod.securityContext?.runAsUser ?? -1,
    readOnlyRootFilesystem: container?.securityContext?.readOnlyRootFilesystem === true,
    dropsAllCapabilities: container?.securityContext?.capabilities?.drop?.includes('ALL') === true,
  };
}

export interface ContainerOperator extends OperatorProcess {
  readonly container: string;
  /** The container's exit code once it has stopped (podman inspect). */
  exitCode(): Promise<number | undefined>;
  /** VmRSS of the container's PID 1 (node), in bytes. */
  rssBytes(): Promise<number>;
  /** Runs a command inside the running container (as its user). */
  exec(args: string[]): Promise<CommandResult>;
  /** `podman stop`: SIGTERM, SIGKILL after graceMs (default: the Deployment's grace period); keeps the container. */
  terminate(graceMs?: number): Promise<void>;
}

export interface ContainerOptions {
  name: string;
  env?: Record<string, string>;
  /** Wait until /readyz answers 200 (default true). */
  waitReady?: boolean;
}

/**
 * Starts the image as the operator, like the Deployment's pod. The ServiceAccount token comes from the
 * TokenRequest API (what a kubelet mounts), the CA is the apiserver's; the container reaches the
 * apiserver at KUBERNETES_SERVICE_HOST/PORT = 127.0.0.1:<port> over the host network.
 */
export async function startContainerOperator(h: OperatorHarness, opts: ContainerOptions): Promise<ContainerOperator> {
  const facts = deploymentFacts();
  // Unique per start: a container left by an earlier run (a killed test process, a reused pid) never
  // blocks this name, and two starts of the same name in one run never collide.
  const container = `lokdarpan-test-${opts.name}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const saDir = join(h.kube.dir, `sa-${opts.name}`);
  mkdirSync(saDir, { recursive: true, mode: 0o755 });
  const token = await h.kubectlOk(['create', 'token', OPERATOR_SERVICE_ACCOUNT, '-n', OPERATOR_NAMESPACE, '--duration=1h']);
  writeFileSync(join(saDir, 'token'), token.trim());
  copyFileSync(h.kube.caFile, join(saDir, 'ca.crt'));
  writeFileSync(join(saDir, 'namespace'), OPERATOR_NAMESPACE);
  for (const f of ['token', 'ca.crt', 'namespace']) chmodSync(join(saDir, f), 0o644);
  chmodSync(saDir, 0o755);
  const apiserver = new URL(h.kube.server);
  const metricsPort = await freePort();
  const env: Record<string, string> = {
    KUBERNETES_SERVICE_HOST: apiserver.hostname,
    KUBERNETES_SERVICE_PORT: apiserver.port,
    POD_NAME: opts.name,
    POD_NAMESPACE: OPERATOR_NAMESPACE,
    LOKDARPAN_METRICS_HOST: '127.0.0.1',
    LOKDARPAN_METRICS_PORT: String(metricsPort),
    LOG_LEVEL: 'debug',
    ...opts.env,
  };
  const args = [
    ...PODMAN_GLOBAL,
    'run',
    '--name', container,
    '--pull=never',
    '--network=host',
    '--read-only',
    '--read-only-tmpfs=false',
    '--tmpfs', '/tmp:rw,mode=1777,size=1g',
    '--user', `${facts.runAsUser}:${facts.runAsUser}`,
    '--cap-drop=ALL',
    '--security-opt=no-new-privileges',
    '--memory', String(facts.memoryLimitBytes),
    '--memory-swap', String(facts.memoryLimitBytes),
    '--stop-timeout', String(facts.graceSeconds),
    ...ULIMITS,
    '-v', `${saDir}:/var/run/secrets/kubernetes.io/serviceaccount:ro`,
    ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
    IMAGE,
    'operator',
  ];
  const logFile = join(h.kube.dir, 'logs', `${opts.name}.log`);
  const proc = startProcess(opts.name, 'podman', args, logFile);
  const unregister = registerCleanup(() => {
    spawnSync('podman', [...PODMAN_GLOBAL, 'rm', '-f', '-t', '0', container], { timeout: 30_000 });
  });
  void proc.exited.then(() => undefined);

  const reader = operatorReader(opts.name, logFile, metricsPort, proc);
  const { running } = reader;
  let removed = false;
  const remove = async (): Promise<void> => {
    if (removed) return;
    removed = true;
    await podman(['rm', '-f', '-t', '0', container]).catch(() => undefined);
    unregister();
  };
  const operator: ContainerOperator = {
    name: opts.name,
    container,
    logFile,
    metricsPort,
    process: proc,
    ...reader,
    async terminate(graceMs = facts.graceSeconds * 1000) {
      if (running()) await podman(['stop', '--time', String(Math.ceil(graceMs / 1000)), container], { timeoutMs: graceMs + 60_000 });
      await proc.exited;
    },
    async stop(graceMs) {
      await operator.terminate(graceMs);
      await remove();
    },
    async kill() {
      if (running()) await podman(['kill', '--signal', 'KILL', container]);
      await proc.exited;
    },
    async exitCode() {
      const r = await podman(['inspect', '--format', '{{.State.ExitCode}}', container]);
      return r.code === 0 ? Number(r.stdout.trim()) : undefined;
    },
    async rssBytes() {
      const pid = (await podman(['inspect', '--format', '{{.State.Pid}}', container])).stdout.trim();
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
      if (!kb) throw new Error(`no VmRSS for pid ${pid}`);
      return Number(kb) * 1024;
    },
    exec: (cmd) => podman(['exec', container, ...cmd]),
  };
  h.operators.push(operator);
  if (opts.waitReady ?? true) {
    try {
      await reader.waitReady();
    } catch (error) {
      // Not ready is a failure of the test that started it: the container must not outlive that test.
      await operator.stop(0).catch(() => undefined);
      throw error;
    }
  }
  return operator;
}

/** Starts several containers at once; if one fails to start, the others are stopped before it throws. */
export async function startContainerOperators(h: OperatorHarness, all: ContainerOptions[]): Promise<ContainerOperator[]> {
  const settled = await Promise.allSettled(all.map((opts) => startContainerOperator(h, opts)));
  const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s) => s.status === 'rejected');
  if (!failed) return started;
  await Promise.all(started.map((o) => o.stop(0).catch(() => undefined)));
  throw failed.reason;
}
