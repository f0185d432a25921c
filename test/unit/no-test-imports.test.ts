// The image holds src/ but not test/: no module under src/ may import from test/ (statically or with a
// dynamic import), or the command that does fails in the image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const srcDir = new URL('../../src/', import.meta.url).pathname;

test('nothing under src/ imports test code', () => {
  const files = readdirSync(srcDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length > 50);
  const offenders = files.filter((f) => /(?:from\s+|import\s*\(\s*)['"][^'"]*\/test\//.test(readFileSync(join(srcDir, f), 'utf8')));
  assert.deepEqual(offenders, []);
  // The check can fail: this line would be caught.
  assert.ok(/(?:from\s+|import\s*\(\s*)['"][^'"]*\/test\//.test("await import('../../test/env/index.ts')"));
});
