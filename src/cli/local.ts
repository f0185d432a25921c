// `lokdarpan local`: the operator against the current kubeconfig when a cluster answers. The embedded
// local setup (control plane, PostgreSQL, two S3 regions on loopback) is built from the test
// environment, which is not part of the image: it lives in test/env/local.ts (`bash scripts/start.sh`),
// and nothing under src/ imports test code.
import { KubeConfig } from '@kubernetes/client-node';
import { configFromEnv } from '../operator/config.ts';
import { startOperator } from '../operator/operator.ts';
import { createLogger } from '../observability/logger.ts';
import { runUntilStopped } from '../runtime/manager.ts';
import { KubeClient } from '../runtime/kube.ts';
import { EXIT, type CliIo } from './io.ts';

const HELP = `usage: lokdarpan local

Runs the operator against the current kubeconfig when a cluster answers (install the CRDs there first:
kubectl apply -k crds/). Ctrl-C stops it. Without a cluster, run \`bash scripts/start.sh\` in a clone of
the repository: it starts an embedded local setup on loopback (control plane, PostgreSQL 15 + pgvector,
two S3 regions), applies the examples, seeds data, runs the operator and shows the resources' status.
`;

export const EMBEDDED_HINT =
  'no cluster answers: for the embedded local setup run `bash scripts/start.sh` in a clone of the repository (it needs the test environment, which the image does not contain)';

export async function clusterAnswers(kubeConfig: KubeConfig): Promise<boolean> {
  try {
    if (!kubeConfig.getCurrentCluster()) return false;
    const client = new KubeClient(kubeConfig);
    await Promise.race([client.get('/version'), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 3000))]);
    return true;
  } catch {
    return false;
  }
}

export async function runLocalCli(argv: string[], io: CliIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(HELP);
    return 0;
  }
  const say = (line: string): void => void io.stdout.write(`${line}\n`);
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromDefault();
  } catch {
    // no kubeconfig: no cluster
  }
  if (argv.includes('--embedded') || !(await clusterAnswers(kubeConfig))) {
    io.stderr.write(`${EMBEDDED_HINT}\n`);
    return EXIT.failure;
  }
  say(`cluster ${kubeConfig.getCurrentCluster()?.server} answers: running the operator against it (Ctrl-C stops)`);
  const config = configFromEnv(io.env);
  const running = await startOperator(config, { kubeConfig, logger: createLogger({ level: config.logLevel, destination: io.stdout }) });
  return (await runUntilStopped(running.manager)).code;
}

