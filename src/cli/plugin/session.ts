// The kube session of a plugin command: the kubeconfig it loads, the client it talks through, and the
// one-line messages its failures end in (exit 1 or 2, never a stack trace).
import { KubeConfig } from '@kubernetes/client-node';
import type { ResourceKind } from '../../api/crd.ts';
import { resourceTypeOf } from '../../controllers/shared/resource-controller.ts';
import { apiErrorMessage, apiStatusCode, isNotFound, KubeClient, resourcePath, type KubeObject } from '../../runtime/kube.ts';
import { EXIT, type CliIo } from '../io.ts';

/** What a plugin command needs of CliIo (repoRoot is not used). */
export type PluginIo = Pick<CliIo, 'stdout' | 'stderr' | 'env'> & {
  /** Poll interval of --wait (default 1000 ms); tests shorten it. */
  pollIntervalMs?: number;
  /** The current time (default: the system clock). */
  now?: () => Date;
};

export type PluginRun = (argv: string[], io: PluginIo) => Promise<number>;

export const nowOf = (io: PluginIo): Date => (io.now ?? (() => new Date()))();

export class UsageError extends Error {}
/** A failure with a one-line message for the user (exit 1, no stack trace). */
export class PluginFailure extends Error {}

/** The message of an error and its causes ("fetch failed (connect ECONNREFUSED 127.0.0.1:6443)"). */
function causeChain(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    const text = current.message + (typeof code === 'string' && !current.message.includes(code) ? ` (${code})` : '');
    if (text && !parts.includes(text)) parts.push(text);
    current = (current as { cause?: unknown }).cause;
  }
  if (parts.length === 0) return String(error);
  return parts.join(': ');
}

/** Where the command connected, for error messages. */
export interface Session {
  server?: string;
}

/** Runs a command body and turns what it throws into its message and exit code. */
export async function guarded(command: string, usage: string, io: PluginIo, body: (session: Session) => Promise<number>): Promise<number> {
  const session: Session = {};
  try {
    return await body(session);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`${command}: ${error.message}\n${usage.split('\n')[0]}\nRun "lokdarpan ${command} --help" (or "kubectl lokdarpan ${command} --help") for the options.\n`);
      return EXIT.usage;
    }
    if (error instanceof PluginFailure) {
      io.stderr.write(`${command}: ${error.message}\n`);
      return EXIT.failure;
    }
    io.stderr.write(`${command}: ${describeKubeError(error, session.server)}\n`);
    return EXIT.failure;
  }
}

/** A 404 for the resource type itself (CRD not installed): the API server answers "404 page not found", not a NotFound Status. */
function isMissingResourceType(error: unknown): boolean {
  if (apiStatusCode(error) !== 404) return false;
  const message = apiErrorMessage(error);
  return message === 'HTTP 404' || /could not find the requested resource|page not found/i.test(message);
}

function describeKubeError(error: unknown, server: string | undefined): string {
  const status = apiStatusCode(error);
  if (status === undefined) {
    return `cannot reach the Kubernetes API server${server ? ` at ${server}` : ''}: ${causeChain(error)}`;
  }
  if (status === 401) return `the API server refused the credentials of the current kubeconfig (401 Unauthorized): ${apiErrorMessage(error)}`;
  if (isMissingResourceType(error)) {
    return 'the LokDarpan CustomResourceDefinitions are not installed in this cluster (kubectl apply -k manifests/base, or -f crds/)';
  }
  return apiErrorMessage(error);
}

export interface Cluster {
  client: KubeClient;
  namespace: string;
  server: string;
}

export interface ClusterOptions {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace?: string | undefined;
}

/** Loads the kubeconfig like kubectl does (--kubeconfig, KUBECONFIG, ~/.kube/config, in-cluster). */
export function connect(values: ClusterOptions, io: PluginIo, session: Session): Cluster {
  const kc = new KubeConfig();
  const fromEnv = io.env['KUBECONFIG'];
  try {
    if (values.kubeconfig !== undefined) kc.loadFromFile(values.kubeconfig);
    else if (fromEnv && !fromEnv.includes(':')) kc.loadFromFile(fromEnv);
    else kc.loadFromDefault();
  } catch (error) {
    throw new PluginFailure(`cannot load the kubeconfig${values.kubeconfig ? ` ${values.kubeconfig}` : ''}: ${causeChain(error)}`);
  }
  if (values.context !== undefined) {
    if (!kc.getContexts().some((c) => c.name === values.context)) {
      throw new PluginFailure(`context "${values.context}" is not in the kubeconfig (it has: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    }
    kc.setCurrentContext(values.context);
  }
  const context = kc.getContextObject(kc.getCurrentContext());
  const server = kc.getCurrentCluster()?.server ?? '';
  session.server = server;
  return { client: new KubeClient(kc), namespace: values.namespace ?? context?.namespace ?? 'default', server };
}

export const pathOf = (cluster: Cluster, kind: ResourceKind, name?: string): string => resourcePath(resourceTypeOf(kind), cluster.namespace, name);

export async function getObject(cluster: Cluster, kind: ResourceKind, name: string): Promise<KubeObject> {
  try {
    return await cluster.client.get<KubeObject>(pathOf(cluster, kind, name));
  } catch (error) {
    if (isNotFound(error) && !isMissingResourceType(error)) {
      throw new PluginFailure(`${kind.singular} "${name}" not found in namespace "${cluster.namespace}"`);
    }
    throw error;
  }
}

export async function listObjects(cluster: Cluster, kind: ResourceKind, allNamespaces: boolean): Promise<KubeObject[]> {
  const list = await cluster.client.listAll<KubeObject>(resourcePath(resourceTypeOf(kind), allNamespaces ? undefined : cluster.namespace));
  return list.items;
}
