// `lokdarpan crds generate|check|print`: writes crds/*.yaml from the zod schemas, or checks they are current.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { crdFor } from '../api/crd.ts';
import { allResourceKinds } from '../api/resources.ts';
import type { CliIo } from './io.ts';

const HEADER = '# Generated from src/api by `npm run crds`. Do not edit by hand.\n';

export function renderCrds(): Map<string, string> {
  const files = new Map<string, string>();
  for (const kind of allResourceKinds) {
    const crd = crdFor(kind);
    files.set(`lokdarpan.io_${kind.plural}.yaml`, HEADER + stringify(crd, { lineWidth: 0, aliasDuplicateObjects: false }));
  }
  const kustomization = { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: [...files.keys()] };
  // Named without an extension so `kubectl apply -f crds/` skips it while `-k` finds it.
  files.set('Kustomization', HEADER + stringify(kustomization));
  return files;
}

export async function staleCrdFiles(dir: string): Promise<string[]> {
  const stale: string[] = [];
  for (const [file, content] of renderCrds()) {
    const current = await readFile(join(dir, file), 'utf8').catch(() => '');
    if (current !== content) stale.push(file);
  }
  return stale;
}

export async function runCrdsCli(argv: string[], io: CliIo): Promise<number> {
  const [verb = 'generate'] = argv;
  const dir = argv[1] ?? join(io.repoRoot, 'crds');
  if (verb === 'print') {
    io.stdout.write([...renderCrds()].filter(([file]) => file !== 'Kustomization').map(([, content]) => content).join('---\n'));
    return 0;
  }
  if (verb === 'check') {
    const stale = await staleCrdFiles(dir);
    if (stale.length === 0) return 0;
    io.stderr.write(`crds/ is stale: ${stale.join(', ')}; run \`npm run crds\`\n`);
    return 1;
  }
  if (verb === 'generate') {
    await mkdir(dir, { recursive: true });
    for (const [file, content] of renderCrds()) await writeFile(join(dir, file), content);
    io.stdout.write(`wrote ${allResourceKinds.length} CRDs and their kustomization to ${dir}\n`);
    return 0;
  }
  io.stderr.write('usage: lokdarpan crds generate|check|print [DIR]\n');
  return 2;
}
