// docs/conditions.md against the reason catalog (src/api/reasons.ts) and the source: every reason is
// explained, the page names no reason that does not exist, every catalog and literal reason in src/ is
// merged into the catalog, and each kind's condition types and reason groups are the documented ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KIND_REASON_GROUPS, KindConditions, REASON_GROUPS, REASON_MEANINGS, Reasons, type KindName } from '../../../src/api/reasons.ts';

const repoRoot = new URL('../../../', import.meta.url).pathname;
const docPath = join(repoRoot, 'docs', 'conditions.md');

interface Section {
  level: number;
  title: string;
  lines: string[];
}

function sections(markdown: string): Section[] {
  const out: Section[] = [];
  let fence = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fence = !fence;
    const heading = fence ? null : /^(#{1,6}) (.+)$/.exec(line);
    if (heading) out.push({ level: heading[1]!.length, title: heading[2]!.trim(), lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

/** Names in the first column of table rows: | `Name` | ... */
function firstColumnNames(lines: readonly string[]): string[] {
  return lines.map((l) => /^\| `([A-Za-z]+)` \|/.exec(l)?.[1]).filter((n): n is string => n !== undefined);
}

function anchor(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-');
}

async function docSections(): Promise<{ kinds: Section[]; groups: Section[] }> {
  const all = sections(await readFile(docPath, 'utf8'));
  const kindsAt = all.findIndex((s) => s.level === 2 && s.title === 'The kinds');
  const reasonsAt = all.findIndex((s) => s.level === 2 && s.title === 'Reasons');
  assert.ok(kindsAt >= 0 && reasonsAt > kindsAt, 'docs/conditions.md has "## The kinds" then "## Reasons"');
  const under = (from: number): Section[] => {
    const rest = all.slice(from + 1);
    const end = rest.findIndex((s) => s.level <= 2);
    return (end < 0 ? rest : rest.slice(0, end)).filter((s) => s.level === 3);
  };
  return { kinds: under(kindsAt), groups: under(reasonsAt) };
}

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(path)));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

const catalog = new Set(Object.keys(Reasons));

test('every reason of the catalog is explained in docs/conditions.md, and the page names no other', async () => {
  const { groups } = await docSections();
  const documented = new Set(groups.flatMap((g) => firstColumnNames(g.lines)));
  assert.deepEqual([...catalog].filter((r) => !documented.has(r)).sort(), [], 'reasons missing from docs/conditions.md');
  assert.deepEqual([...documented].filter((r) => !catalog.has(r)).sort(), [], 'reasons in docs/conditions.md that src/api/reasons.ts does not have');
});

test('each reason section of the page lists exactly its group of the catalog', async () => {
  const { groups } = await docSections();
  assert.deepEqual(groups.map((g) => anchor(g.title)), REASON_GROUPS.map((g) => g.id));
  for (const group of REASON_GROUPS) {
    const section = groups.find((g) => anchor(g.title) === group.id);
    assert.ok(section, group.id);
    assert.deepEqual(firstColumnNames(section.lines).sort(), Object.keys(group.reasons).sort(), group.title);
  }
  const grouped = new Set(REASON_GROUPS.flatMap((g) => Object.keys(g.reasons)));
  assert.deepEqual([...catalog].filter((r) => !grouped.has(r)), [], 'reasons in no group');
});

test('each kind lists its condition types and links the reason groups it can carry', async () => {
  const { kinds } = await docSections();
  assert.deepEqual(kinds.map((k) => k.title).sort(), Object.keys(KindConditions).sort());
  for (const section of kinds) {
    const kind = section.title as KindName;
    assert.deepEqual(firstColumnNames(section.lines), [...KindConditions[kind]], `${kind} condition types`);
    const reasonsLine = section.lines.find((l) => l.startsWith('Reasons: '));
    assert.ok(reasonsLine, `${kind} has a "Reasons:" line`);
    const links = [...reasonsLine.matchAll(/\]\(#([a-z-]+)\)/g)].map((m) => m[1]);
    assert.deepEqual(links, [...KIND_REASON_GROUPS[kind]], `${kind} reason groups`);
  }
});

test('every meaning is one line ending with a period', () => {
  for (const [reason, meaning] of Object.entries(REASON_MEANINGS)) {
    assert.match(meaning, /^[^\n]+\.$/, reason);
    assert.equal(Reasons[reason as keyof typeof Reasons], reason);
  }
});

test('every reason catalog in src/ is merged into src/api/reasons.ts', async () => {
  const files = (await sourceFiles(join(repoRoot, 'src'))).filter((f) => !f.endsWith(join('api', 'reasons.ts')));
  const found: string[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(/^export const (\w*(?:Reasons|REASONS)) = /gm)) {
      const name = m[1]!;
      found.push(name);
      const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      const values = Object.values(module[name] as Record<string, string>);
      const missing = values.filter((v) => !catalog.has(v));
      assert.deepEqual(missing, [], `${relative(repoRoot, file)} ${name} has reasons that are not in src/api/reasons.ts`);
    }
  }
  assert.ok(found.length >= 15, `found only ${found.join(', ')}`);
});

test('every literal reason written in the controllers, engines, adapters and runtime is in the catalog', async () => {
  const dirs = ['controllers', 'engines', 'adapters', 'runtime', 'operator'].map((d) => join(repoRoot, 'src', d));
  const unknown: string[] = [];
  let seen = 0;
  for (const dir of dirs) {
    for (const file of await sourceFiles(dir)) {
      const text = await readFile(file, 'utf8');
      const patterns = [/OperatorError\(\s*'([A-Z]\w*)'/g, /\breason: '([A-Z]\w*)'/g, /error\.reason : '([A-Z]\w*)'/g];
      for (const pattern of patterns) {
        for (const m of text.matchAll(pattern)) {
          seen++;
          if (!catalog.has(m[1]!)) unknown.push(`${relative(repoRoot, file)}: ${m[1]}`);
        }
      }
    }
  }
  assert.ok(seen >= 10, `the scan found only ${seen} literal reasons: the patterns no longer match the code`);
  assert.deepEqual(unknown, []);
});

test('the condition types the reconcilers set are the catalog\'s for their kind', async () => {
  const files: Record<string, KindName> = {
    'src/controllers/lokdarpan-database/reconciler.ts': 'LokdarpanDatabase',
    'src/controllers/backup/policy-reconciler.ts': 'BackupPolicy',
    'src/controllers/backup/reconciler.ts': 'Backup',
    'src/controllers/backup/restore-reconciler.ts': 'Restore',
    'src/controllers/retention-policy/reconciler.ts': 'RetentionPolicy',
  };
  for (const [file, kind] of Object.entries(files)) {
    const text = await readFile(join(repoRoot, file), 'utf8');
    const literal = [...text.matchAll(/\btype: '(\w+)', status: /g)].map((m) => m[1]!);
    const viaCatalog = [...text.matchAll(/\btype: C\.(\w+), status: /g)].map((m) => m[1]!);
    const used = new Set([...literal, ...viaCatalog]);
    assert.ok(used.size >= 2, `${file}: no condition types found`);
    const allowed = new Set<string>(KindConditions[kind]);
    assert.deepEqual([...used].filter((t) => !allowed.has(t)), [], `${file} sets condition types that ${kind} does not list`);
  }
});
