import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parse } from 'yaml';
import { staleCrdFiles, renderCrds } from '../../../src/cli/crds.ts';
import { allResourceKinds } from '../../../src/api/resources.ts';

const repoRoot = new URL('../../../', import.meta.url).pathname;

type Schema = { description?: string; properties?: Record<string, Schema>; items?: Schema; additionalProperties?: Schema | boolean };

test('crds/ matches the zod schemas (run `npm run crds` after changing src/api)', async () => {
  assert.deepEqual(await staleCrdFiles(join(repoRoot, 'crds')), []);
});

/** Every property under `node` (through nested objects, array items and map values) that has no description. */
function undescribed(node: Schema, path: string): string[] {
  const missing: string[] = [];
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const where = `${path}.${name}`;
    if (!child.description?.trim()) missing.push(where);
    missing.push(...undescribed(child, where));
  }
  if (node.items) missing.push(...undescribed(node.items, `${path}[]`));
  if (typeof node.additionalProperties === 'object') missing.push(...undescribed(node.additionalProperties, `${path}{}`));
  return missing;
}

test('every field of every CRD (spec and status) has a description, so kubectl explain teaches the API', () => {
  const missing: string[] = [];
  let fields = 0;
  for (const [file, content] of renderCrds()) {
    if (file === 'Kustomization') continue;
    const crd = parse(content) as { spec: { names: { kind: string }; versions: Array<{ schema: { openAPIV3Schema: Schema } }> } };
    const root = crd.spec.versions[0]?.schema.openAPIV3Schema;
    assert.ok(root?.properties?.['spec'] && root.properties['status'], crd.spec.names.kind);
    // metadata is the API server's ObjectMeta: a CRD may not describe it (kubectl explain shows the built-in one).
    const { metadata: _builtIn, ...ours } = root.properties;
    missing.push(...undescribed({ properties: ours }, crd.spec.names.kind));
    fields += JSON.stringify(root).split('"description"').length;
  }
  assert.ok(fields > 200, `walked only ${fields} described nodes: is the walk reaching the fields?`);
  assert.deepEqual(missing, []);
});

test('the description check finds an undescribed field at any depth', () => {
  const schema: Schema = {
    properties: {
      a: { description: 'x', properties: { b: {} } },
      c: { description: 'x', items: { properties: { d: { description: ' ' } } } },
      e: { description: 'x', additionalProperties: { properties: { f: {} } } },
    },
  };
  assert.deepEqual(undescribed(schema, 'K'), ['K.a.b', 'K.c[].d', 'K.e{}.f']);
});

test('each kind has printer columns and short names', () => {
  for (const kind of allResourceKinds) {
    assert.ok(kind.printerColumns.length >= 3, kind.kind);
    assert.ok(kind.shortNames.length >= 1, kind.kind);
  }
});
