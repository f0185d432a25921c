import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parse } from 'yaml';
import { staleCrdFiles, renderCrds } from '../../../src/cli/crds.ts';
import { allResourceKinds } from '../../../src/api/resources.ts';

const repoRoot = new URL('../../../', import.meta.url).pathname;

type Schema = { description?: string; properties?: Record<string, Schema>; items?: Schema };

test('crds/ matches the zod schemas (run `npm run crds` after changing src/api)', async () => {
  assert.deepEqual(await staleCrdFiles(join(repoRoot, 'crds')), []);
});

test('every spec field has a description, so kubectl explain teaches the API', () => {
  const missing: string[] = [];
  const walk = (node: Schema, path: string): void => {
    for (const [name, child] of Object.entries(node.properties ?? {})) {
      const where = `${path}.${name}`;
      if (!child.description) missing.push(where);
      walk(child, where);
      if (child.items) walk(child.items, `${where}[]`);
    }
  };
  for (const [file, content] of renderCrds()) {
    if (file === 'Kustomization') continue;
    const crd = parse(content) as { spec: { names: { kind: string }; versions: Array<{ schema: { openAPIV3Schema: Schema } }> } };
    const root = crd.spec.versions[0]?.schema.openAPIV3Schema.properties?.['spec'];
    assert.ok(root, crd.spec.names.kind);
    walk(root, `${crd.spec.names.kind}.spec`);
  }
  assert.deepEqual(missing, []);
});

test('each kind has printer columns and short names', () => {
  for (const kind of allResourceKinds) {
    assert.ok(kind.printerColumns.length >= 3, kind.kind);
    assert.ok(kind.shortNames.length >= 1, kind.kind);
  }
});
