// The bundle the image runs (scripts/build-bundle.ts): it builds, its entry answers --help, its API
// schemas generate the committed CRDs, and every chunk loads, the lazily imported ones too (a dependency
// left out or a CommonJS interop the bundler breaks would fail only in the image otherwise).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildBundle, repoRoot } from '../../../scripts/build-bundle.ts';

const run = promisify(execFile);
let dir: string;
let entry: string;

before(async () => {
  // The image's layout: dist/cli next to crds/ and migrations/.
  dir = await mkdtemp(join(tmpdir(), 'lokdarpan-bundle-'));
  for (const d of ['crds', 'migrations']) await symlink(join(repoRoot, d), join(dir, d));
  entry = await buildBundle(join(dir, 'dist/cli'));
});
after(() => rm(dir, { recursive: true, force: true }));

const node = (args: string[]) => run(process.execPath, args, { cwd: dir, env: { PATH: process.env['PATH'] ?? '' } });

test('the bundled CLI answers --help and its CRDs are the committed ones', async () => {
  const help = await node([entry, '--help']);
  assert.match(help.stdout, /^usage: lokdarpan <command>/);
  assert.match(help.stdout, /^ {2}operator /m);
  const check = await node([entry, 'crds', 'check']);
  assert.equal(check.stderr, '');
});

test('every chunk of the bundle loads, with no node_modules beside it', async () => {
  const chunks = (await readdir(join(dir, 'dist/cli'))).filter((f) => f.endsWith('.mjs'));
  assert.ok(chunks.length > 10, `only ${chunks.length} chunks: the lazy imports were not split`);
  const script = `for (const c of ${JSON.stringify(chunks)}) await import('./dist/cli/' + c); console.log('loaded');`;
  const loaded = await node(['--input-type=module', '-e', script]);
  assert.equal(loaded.stdout.trim(), 'loaded');
});
