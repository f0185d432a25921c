// Where the operator's KubeConnection comes from, in the order of client-node's KubeConfig.loadFromDefault:
// an explicit kubeconfig file, else $KUBECONFIG (files merged, first wins), else ~/.kube/config, else the
// in-cluster service account (token, ca.crt, namespace), else http://localhost:8080. Reads kubeconfig
// clusters with a CA (file or data), insecure-skip-tls-verify and tls-server-name, and users with a client
// certificate/key (file or data), a token or tokenFile, basic auth and `as` (impersonation). A user with
// `exec` or `auth-provider`, or a cluster behind `proxy-url`, is handed to @kubernetes/client-node (loaded
// only then) through kubeConfigConnection. TLS files and token files are re-read once a minute (rotation).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { isIPv6 } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeConnection, KubeCredentials, KubeTls } from './kube-http.ts';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeConfigSources {
  /** The environment (KUBECONFIG, HOME, KUBERNETES_SERVICE_HOST/PORT). */
  env: Record<string, string | undefined>;
  /** An explicit kubeconfig file (`--kubeconfig`): wins over everything else. */
  kubeconfig?: string | undefined;
  /** The service account mount (tests point it elsewhere). */
  serviceAccountDir?: string;
  /** How long TLS and token files are reused before they are read again. Default 60 s. */
  refreshMs?: number;
  /** Milliseconds, monotonic. Default performance.now. */
  now?: () => number;
}

/** A connection with what the kubeconfig says about it. */
export interface LoadedKubeConnection extends KubeConnection {
  /** The current context's namespace, or the service account's. */
  readonly namespace: string | undefined;
  /** Where it came from: a file path, `in-cluster` or `default`. */
  readonly origin: string;
}

interface NamedEntry<T> {
  name?: string;
  [key: string]: T | string | undefined;
}

interface ClusterEntry {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
  'proxy-url'?: string;
}

interface UserEntry {
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  as?: string;
  exec?: unknown;
  'auth-provider'?: unknown;
}

interface ContextEntry {
  cluster?: string;
  user?: string;
  namespace?: string;
}

interface KubeconfigFile {
  clusters?: NamedEntry<ClusterEntry>[] | null;
  users?: NamedEntry<UserEntry>[] | null;
  contexts?: NamedEntry<ContextEntry>[] | null;
  'current-context'?: string;
}

/** Paths of one file made absolute against its directory, as kubectl does. */
interface Merged {
  clusters: Map<string, ClusterEntry>;
  users: Map<string, UserEntry>;
  contexts: Map<string, ContextEntry>;
  currentContext: string | undefined;
}

/** A file's content or a base64 `-data` value, read when needed. */
interface Material {
  file?: string | undefined;
  data?: string | undefined;
}

function readMaterial(m: Material): Buffer | undefined {
  if (m.data) return Buffer.from(m.data, 'base64');
  if (m.file) return readFileSync(m.file);
  return undefined;
}

/** Static TLS and token settings, re-read every refreshMs. */
function staticConnection(
  server: string,
  settings: { ca: Material; cert: Material; key: Material; insecure: boolean; servername: string | undefined; token: Material & { literal?: string | undefined }; basic: string | undefined; impersonate: string | undefined },
  namespace: string | undefined,
  origin: string,
  refreshMs: number,
  now: () => number,
): LoadedKubeConnection {
  let memo: { at: number; credentials: KubeCredentials } | undefined;
  const read = (): KubeCredentials => {
    const tls: KubeTls = {
      ca: readMaterial(settings.ca),
      cert: readMaterial(settings.cert),
      key: readMaterial(settings.key),
      rejectUnauthorized: !settings.insecure,
      servername: settings.servername,
    };
    const headers: Record<string, string> = {};
    const token = settings.token.literal ?? (settings.token.file ? readFileSync(settings.token.file, 'utf8').trim() : undefined);
    if (token) headers['Authorization'] = `Bearer ${token}`;
    else if (settings.basic) headers['Authorization'] = `Basic ${Buffer.from(settings.basic).toString('base64')}`;
    if (settings.impersonate) headers['Impersonate-User'] = settings.impersonate;
    return { tls, headers };
  };
  return {
    server,
    namespace,
    origin,
    async credentials() {
      const at = now();
      if (!memo || at - memo.at >= refreshMs) {
        const fresh = read();
        // Unchanged material keeps its object: the HTTP layer then keeps its connection pool without comparing.
        memo = { at, credentials: memo && sameCredentials(memo.credentials, fresh) ? memo.credentials : fresh };
      }
      return memo.credentials;
    },
  };
}

function sameCredentials(a: KubeCredentials, b: KubeCredentials): boolean {
  const eq = (x: unknown, y: unknown): boolean => (Buffer.isBuffer(x) && Buffer.isBuffer(y) ? x.equals(y) : x === y);
  const keys = new Set([...Object.keys(a.tls), ...Object.keys(b.tls)]) as Set<keyof KubeTls>;
  const headerKeys = new Set([...Object.keys(a.headers), ...Object.keys(b.headers)]);
  return [...keys].every((k) => eq(a.tls[k], b.tls[k])) && [...headerKeys].every((k) => a.headers[k] === b.headers[k]);
}

async function parseKubeconfig(file: string): Promise<KubeconfigFile> {
  // yaml is only needed for files: in-cluster does not load it. It is CommonJS: `default` is its
  // module.exports both under Node and in the bundle (whose lazy chunk exports nothing else).
  const { parse } = (await import('yaml')).default;
  const text = readFileSync(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = parse(text);
  } catch (error) {
    // yaml's message quotes the offending line, which may hold a token or key: keep only where it is.
    const at = (error as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
    throw new Error(`kubeconfig ${file} is not valid YAML${at ? ` (line ${at.line}, column ${at.col})` : ''}`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`kubeconfig ${file} is not a YAML mapping`);
  return parsed as KubeconfigFile;
}

const PATH_FIELDS = ['certificate-authority', 'client-certificate', 'client-key', 'tokenFile'] as const;

function absolutePaths<T extends object>(entry: T, dir: string): T {
  const out = { ...entry } as Record<string, unknown>;
  for (const field of PATH_FIELDS) {
    const value = out[field];
    if (typeof value === 'string' && value !== '' && !isAbsolute(value)) out[field] = resolve(dir, value);
  }
  return out as T;
}

async function mergeFiles(files: string[]): Promise<Merged> {
  const merged: Merged = { clusters: new Map(), users: new Map(), contexts: new Map(), currentContext: undefined };
  for (const file of files) {
    const config = await parseKubeconfig(file);
    const dir = dirname(resolve(file));
    const add = <T extends object>(target: Map<string, T>, entries: NamedEntry<T>[] | null | undefined, field: string): void => {
      for (const entry of entries ?? []) {
        const value = entry[field];
        if (typeof entry.name === 'string' && typeof value === 'object' && value !== null && !target.has(entry.name)) target.set(entry.name, absolutePaths(value, dir));
      }
    };
    add(merged.clusters, config.clusters, 'cluster');
    add(merged.users, config.users, 'user');
    add(merged.contexts, config.contexts, 'context');
    merged.currentContext ??= config['current-context'] || undefined;
  }
  return merged;
}

/** A client-node KubeConfig loaded the same way, for what the thin loader does not speak. */
async function clientNodeConnection(files: string[], origin: string, namespace: string | undefined): Promise<LoadedKubeConnection> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(files[0]!);
  for (const file of files.slice(1)) {
    const more = new KubeConfig();
    more.loadFromFile(file);
    kc.mergeConfig(more);
  }
  return Object.assign(kubeConfigConnection(kc), { namespace, origin });
}

async function fromFiles(files: string[], sources: KubeConfigSources): Promise<LoadedKubeConnection> {
  const origin = files.join(':');
  const merged = await mergeFiles(files);
  const contextName = merged.currentContext;
  const context = contextName === undefined ? undefined : merged.contexts.get(contextName);
  if (!context) throw new Error(`kubeconfig ${origin}: ${contextName === undefined ? 'no current-context' : `current-context "${contextName}" is not defined`}`);
  const cluster = context.cluster === undefined ? undefined : merged.clusters.get(context.cluster);
  if (!cluster?.server) throw new Error(`kubeconfig ${origin}: context "${contextName}" names no cluster with a server`);
  const user: UserEntry = (context.user === undefined ? undefined : merged.users.get(context.user)) ?? {};
  if (user.exec !== undefined || user['auth-provider'] !== undefined || cluster['proxy-url']) return clientNodeConnection(files, origin, context.namespace);
  return staticConnection(
    cluster.server,
    {
      ca: { file: cluster['certificate-authority'], data: cluster['certificate-authority-data'] },
      cert: { file: user['client-certificate'], data: user['client-certificate-data'] },
      key: { file: user['client-key'], data: user['client-key-data'] },
      insecure: cluster['insecure-skip-tls-verify'] === true,
      servername: cluster['tls-server-name'],
      token: { literal: user.token || undefined, file: user.tokenFile || undefined },
      basic: user.username ? `${user.username}:${user.password ?? ''}` : undefined,
      impersonate: user.as,
    },
    context.namespace,
    origin,
    sources.refreshMs ?? 60_000,
    sources.now ?? (() => performance.now()),
  );
}

function inCluster(sources: KubeConfigSources, dir: string): LoadedKubeConnection {
  const host = sources.env['KUBERNETES_SERVICE_HOST'];
  const port = sources.env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port) throw new Error(`found the service account in ${dir} but KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set`);
  const scheme = ['80', '8080', '8001'].includes(port) ? 'http' : 'https';
  const namespaceFile = join(dir, 'namespace');
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined;
  return staticConnection(
    `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    { ca: { file: join(dir, 'ca.crt') }, cert: {}, key: {}, insecure: false, servername: undefined, token: { file: join(dir, 'token') }, basic: undefined, impersonate: undefined },
    namespace,
    'in-cluster',
    sources.refreshMs ?? 60_000,
    sources.now ?? (() => performance.now()),
  );
}

/** The connection the operator uses, found as client-node's loadFromDefault (or loadFromFile) would. */
export async function loadKubeConnection(sources: KubeConfigSources): Promise<LoadedKubeConnection> {
  if (sources.kubeconfig) return fromFiles([sources.kubeconfig], sources);
  const fromEnv = (sources.env['KUBECONFIG'] ?? '').split(':').filter(Boolean);
  if (fromEnv.length > 0) return fromFiles(fromEnv, sources);
  const home = sources.env['HOME'];
  if (home && existsSync(join(home, '.kube', 'config'))) return fromFiles([join(home, '.kube', 'config')], sources);
  const dir = sources.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  if (existsSync(join(dir, 'token'))) return inCluster(sources, dir);
  return staticConnection('http://localhost:8080', { ca: {}, cert: {}, key: {}, insecure: false, servername: undefined, token: {}, basic: undefined, impersonate: undefined }, undefined, 'default', Infinity, () => 0);
}

/** What kubeConfigConnection needs of a client-node KubeConfig (its private helpers included). */
interface KubeConfigInternals {
  getCurrentCluster(): { server: string } | null;
  applyHTTPSOptions?(opts: Record<string, unknown>): void;
  applyAuthorizationHeader?(opts: Record<string, unknown>): Promise<void>;
  applyToHTTPSOptions(opts: Record<string, unknown>): Promise<void>;
  getCurrentUser(): { username?: string; password?: string } | null;
}

/**
 * A KubeConnection over a client-node KubeConfig (the CLI and tests build those; exec and auth-provider
 * users): its TLS material is read once a minute, its authenticators run per request (rotating tokens).
 */
export function kubeConfigConnection(kubeConfig: KubeConfig, options: { refreshMs?: number; now?: () => number } = {}): KubeConnection {
  const kc = kubeConfig as unknown as KubeConfigInternals;
  const refreshMs = options.refreshMs ?? 60_000;
  const now = options.now ?? (() => performance.now());
  let memo: { at: number; cluster: unknown; user: unknown; tls: KubeTls; headers: Record<string, string> } | undefined;
  return {
    get server(): string {
      const cluster = kc.getCurrentCluster();
      if (!cluster) throw new Error('the kubeconfig has no current cluster');
      return cluster.server;
    },
    async credentials() {
      const cluster = kc.getCurrentCluster();
      const user = kc.getCurrentUser();
      const at = now();
      if (!memo || memo.cluster !== cluster || memo.user !== user || at - memo.at >= refreshMs) {
        const opts: Record<string, unknown> = {};
        if (kc.applyHTTPSOptions) kc.applyHTTPSOptions(opts);
        else await kc.applyToHTTPSOptions(opts);
        const tls: KubeTls = { ca: opts['ca'] as Buffer | undefined, cert: opts['cert'] as Buffer | undefined, key: opts['key'] as Buffer | undefined, rejectUnauthorized: opts['rejectUnauthorized'] as boolean | undefined, servername: opts['servername'] as string | undefined };
        memo = { at, cluster, user, tls, headers: { ...(opts['headers'] as Record<string, string> | undefined) } };
      }
      const opts: Record<string, unknown> = { headers: { ...memo.headers } };
      if (kc.applyAuthorizationHeader) await kc.applyAuthorizationHeader(opts);
      const headers = opts['headers'] as Record<string, string>;
      if (!headers['Authorization'] && user?.username) headers['Authorization'] = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
      return { tls: memo.tls, headers };
    },
  };
}
