// The command-line options every plugin command shares (cluster, --json, --wait) and their checks.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { parseDuration } from '../../api/duration.ts';
import { UsageError } from './session.ts';

export const commonOptions = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export const waitOptions = {
  wait: { type: 'boolean', default: false },
  timeout: { type: 'string', default: '30m' },
} as const;

export const COMMON_HELP = `cluster options (like kubectl):
  --kubeconfig PATH      kubeconfig file (default: KUBECONFIG, else ~/.kube/config, else in-cluster)
  --context NAME         kubeconfig context (default: the current context)
  -n, --namespace NS     namespace (default: the context's namespace, else "default")
  --json                 machine-readable output
  -h, --help`;

export const WAIT_HELP = `  --wait                 follow it until it is done; exit 0 if it succeeded, 1 if it failed
  --timeout DURATION     how long --wait waits (default 30m; e.g. 90s, 10m, 2h)`;

export function parse<T extends ParseArgsOptionsConfig>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function timeoutMs(text: string): number {
  try {
    return parseDuration(text);
  } catch (error) {
    throw new UsageError(`--timeout: ${(error as Error).message}`);
  }
}

export function oneName(positionals: string[], what: string): string {
  if (positionals.length === 0) throw new UsageError(`name the ${what}`);
  if (positionals.length > 1) throw new UsageError(`one ${what} at a time; got ${positionals.join(', ')}`);
  const name = positionals[0] as string;
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) throw new UsageError(`"${name}" is not a Kubernetes object name`);
  return name;
}

/** `<base>-<infix>-<yyyymmdd-hhmmss>` in UTC, at most 63 characters (the base is cut to fit). */
export function stampedName(base: string, infix: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const suffix = `-${infix}-${stamp}`;
  return `${base.slice(0, 63 - suffix.length).replace(/[-.]+$/, '')}${suffix}`;
}
