// docs/reference/crds.md is generated from the API schemas (`node src/cli/main.ts docs generate`) and
// must be current; it documents every field of every kind with type, default and validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CRD_REFERENCE_PATH, crdReferenceIsStale, renderCrdReference, runDocsCli } from '../../../src/cli/docs.ts';
import { renderCrds } from '../../../src/cli/crds.ts';
import { REASON_DOCS } from '../../../src/cli/reason-docs.ts';
import { capturedIo } from '../../cli-io.ts';

const repoRoot = new URL('../../../', import.meta.url).pathname;

type Schema = { properties?: Record<string, Schema>; items?: Schema };

test(`${CRD_REFERENCE_PATH} is current (run \`node src/cli/main.ts docs generate\` after changing src/api)`, async () => {
  assert.equal(await crdReferenceIsStale(repoRoot), false);
  assert.equal(await readFile(join(repoRoot, CRD_REFERENCE_PATH), 'utf8'), renderCrdReference());
});

test('every spec and status field of every CRD has a row', () => {
  const page = renderCrdReference();
  const missing: string[] = [];
  const walk = (node: Schema, path: string): void => {
    for (const [name, child] of Object.entries(node.properties ?? {})) {
      const where = `${path}.${name}`;
      if (!page.includes(`| \`${where}\` |`)) missing.push(where);
      walk(child, where);
      if (child.items) walk(child.items, `${where}[]`);
    }
  };
  let kinds = 0;
  for (const [file, content] of renderCrds()) {
    if (file === 'Kustomization') continue;
    kinds++;
    const crd = parse(content) as { spec: { names: { kind: string }; versions: Array<{ schema: { openAPIV3Schema: Schema } }> } };
    assert.ok(page.includes(`## ${crd.spec.names.kind}\n`), crd.spec.names.kind);
    const root = crd.spec.versions[0]!.schema.openAPIV3Schema;
    walk(root.properties!['spec']!, 'spec');
    walk(root.properties!['status']!, 'status');
  }
  assert.equal(kinds, 5);
  assert.deepEqual(missing, []);
});

test('rows carry type, default, description and validation', () => {
  const page = renderCrdReference();
  const row = (path: string): string => page.split('\n').find((l) => l.startsWith(`| \`${path}\` |`)) ?? '';
  assert.match(row('spec.schedule'), /\| string \| {2}\| When to take a backup, 5-field cron\. \| required; max length 128; CEL `self\.matches/);
  assert.match(row('spec.compressionLevel'), /\| integer \| `1` \| zstd level .* \| >= 1; <= 19 \|$/);
  assert.match(row('spec.recipients'), /\| \[\]string \| {2}\| age public keys .* \| required; at least 1 item; at most 16 items \|$/);
  assert.match(row('spec.recipients[]'), /pattern `\^age1\[02-9ac-hj-np-z\]\{58\}\$`/);
  assert.match(row('spec.connection.sslMode'), /`"disable"` .* one of `disable`, `require`, `verify-full`/);
  // A | inside a pattern or a CEL rule must not split the table cell.
  assert.match(row('spec.startingDeadline'), /pattern `\^\[0-9\]\{1,9\}\(ms\\\|s\\\|m/);
  assert.match(page, /Object rules: CEL `has\(self\.backupRef\) != has\(self\.source\)`: set exactly one of backupRef and source/);
});

test('`docs check` fails on a stale page and `docs generate` fixes it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lokdarpan-docs-'));
  try {
    const noPages = capturedIo({ env: {}, repoRoot: dir });
    assert.equal(await runDocsCli(['check'], noPages.io), 1);
    assert.match(noPages.err(), /docs\/conditions\.md is missing/);
    await mkdir(join(dir, 'docs'), { recursive: true });
    for (const doc of REASON_DOCS) await copyFile(join(repoRoot, doc.path), join(dir, doc.path));
    const missing = capturedIo({ env: {}, repoRoot: dir });
    assert.equal(await runDocsCli(['check'], missing.io), 1);
    assert.match(missing.err(), /docs\/reference\/crds\.md is stale/);
    const gen = capturedIo({ env: {}, repoRoot: dir });
    assert.equal(await runDocsCli(['generate'], gen.io), 0);
    assert.equal(await runDocsCli(['check'], capturedIo({ env: {}, repoRoot: dir }).io), 0);
    await writeFile(join(dir, CRD_REFERENCE_PATH), `${renderCrdReference()}\nedited by hand\n`);
    assert.equal(await runDocsCli(['check'], capturedIo({ env: {}, repoRoot: dir }).io), 1);
    assert.equal(await runDocsCli(['generate'], capturedIo({ env: {}, repoRoot: dir }).io), 0);
    const conditions = join(dir, 'docs', 'conditions.md');
    const page = await readFile(conditions, 'utf8');
    await writeFile(conditions, page.replace(/^\| `UploadFailed` \| .*$/m, '| `UploadFailed` | edited by hand |'));
    const staleReasons = capturedIo({ env: {}, repoRoot: dir });
    assert.equal(await runDocsCli(['check'], staleReasons.io), 1);
    assert.match(staleReasons.err(), /docs\/conditions\.md is stale/);
    assert.equal(await runDocsCli(['generate'], capturedIo({ env: {}, repoRoot: dir }).io), 0);
    assert.equal(await readFile(conditions, 'utf8'), page);
    assert.equal(await runDocsCli(['bogus'], capturedIo({ env: {}, repoRoot: dir }).io), 2);
    const help = capturedIo({ env: {}, repoRoot: dir });
    assert.equal(await runDocsCli(['--help'], help.io), 0);
    assert.match(help.out(), /generate\|check\|print/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
