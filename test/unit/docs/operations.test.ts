// docs/operations.md, docs/conditions.md and docs/reference/crds.md stay true to the code: the
// configuration table names every variable `lokdarpan operator --help` lists, the kubectl plugin section
// names every command of `lokdarpan --help`, and every relative link and #anchor resolves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { usage } from '../../../src/cli/main.ts';
import { runOperatorCli } from '../../../src/cli/operator.ts';

const repoRoot = new URL('../../../', import.meta.url).pathname;
const read = (path: string): Promise<string> => readFile(join(repoRoot, path), 'utf8');

function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `section "${title}"`);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

/** GitHub's anchors of a page's headings. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  let fence = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fence = !fence;
    const m = fence ? null : /^#{1,6} (.+)$/.exec(line);
    if (m) out.add(m[1]!.trim().toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-'));
  }
  return out;
}

test('the configuration table lists every variable of `lokdarpan operator --help`', async () => {
  const stdout = new PassThrough();
  let help = '';
  stdout.on('data', (c: Buffer) => (help += c.toString()));
  assert.equal(await runOperatorCli(['--help'], { stdout, stderr: new PassThrough(), env: {}, repoRoot }), 0);
  const variables = [...new Set(help.match(/\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b|\bKUBECONFIG\b/g) ?? [])];
  assert.ok(variables.length >= 10, help);
  const table = section(await read('docs/operations.md'), 'Configuration');
  assert.deepEqual(variables.filter((v) => !table.includes(`\`${v}\``)), []);
});

test('the kubectl plugin section names every command of `lokdarpan --help`', async () => {
  const commands = [...usage().matchAll(/^ {2}(\S+) {2,}/gm)].map((m) => m[1]!);
  assert.ok(commands.length >= 5, usage());
  const plugin = section(await read('docs/operations.md'), 'The kubectl plugin');
  assert.deepEqual(commands.filter((c) => !plugin.includes(`\`${c}\``) && !plugin.includes(`kubectl lokdarpan ${c}`)), []);
});

test('every relative link and anchor in the operations, conditions and CRD reference pages resolves', async () => {
  const pages = ['docs/operations.md', 'docs/conditions.md', 'docs/reference/crds.md'];
  const broken: string[] = [];
  for (const page of pages) {
    // Links outside code: fenced blocks and code spans (patterns like `a(b)`) are not links.
    const text = (await read(page)).replace(/^```[\s\S]*?^```$/gm, '').replace(/`[^`\n]*`/g, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const link = m[1]!;
      if (/^[a-z]+:/.test(link)) continue;
      const [file, anchor] = link.split('#') as [string, string | undefined];
      const target = file === '' ? page : join(dirname(page), file);
      if (!existsSync(join(repoRoot, target))) {
        broken.push(`${page}: ${link} (no file)`);
        continue;
      }
      if (anchor !== undefined && target.endsWith('.md') && !anchors(await read(target)).has(anchor)) broken.push(`${page}: ${link} (no anchor)`);
    }
  }
  assert.deepEqual(broken, []);
});

test('the kubectl plugin table shows each cluster command as its --help does', async () => {
  const plugin = await import('../../../src/cli/plugin.ts');
  const usages = [plugin.STATUS_USAGE, plugin.BACKUP_NOW_USAGE, plugin.REFRESH_USAGE, plugin.VALIDATE_USAGE, plugin.RETENTION_RUN_USAGE];
  const table = section(await read('docs/operations.md'), 'The kubectl plugin').replace(/\\\|/g, '|');
  for (const usage of usages) {
    const synopsis = /^usage: lokdarpan (.+)$/m.exec(usage)?.[1];
    assert.ok(synopsis, usage);
    assert.ok(table.includes(`\`kubectl lokdarpan ${synopsis}\``), `docs/operations.md lacks "kubectl lokdarpan ${synopsis}"`);
  }
});
