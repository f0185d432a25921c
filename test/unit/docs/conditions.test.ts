// docs/conditions.md and the reason catalogs: the reason tables are the generated ones, every reason
// is written once with a one-line meaning, each kind lists its condition types and links the reason
// groups it can carry. That a reason which is in no catalog cannot be raised is checked by the type
// checker (`tsc -p .`): OperatorError and ConditionInput take a `Reason`; the expected type errors
// in the first test make the type check fail if that ever stops being true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OperatorError } from '../../../src/errors.ts';
import type { ConditionInput } from '../../../src/runtime/conditions.ts';
import { BackupReasons } from '../../../src/engines/backup/reasons.ts';
import { isReason, KIND_REASON_GROUPS, KindConditions, REASON_GROUPS, reasonMeaning, reasonOr, reasonsOf, type KindName, type Reason } from '../../../src/reasons/index.ts';
import { REASON_DOCS, renderReasonTable, spliceReasonTables } from '../../../src/cli/reason-docs.ts';

const repoRoot = new URL('../../../', import.meta.url).pathname;
const docPath = join(repoRoot, 'docs', 'conditions.md');

test('a reason that is in no catalog does not type-check', () => {
  // @ts-expect-error 'UploadFailled' is a typo
  const typo = new OperatorError('UploadFailled', 'x');
  // @ts-expect-error a condition takes a catalog reason
  const condition: ConditionInput = { type: 'Ready', status: 'True', reason: 'AllGood' };
  // @ts-expect-error the accessors only have the catalog's reasons
  const missing: unknown = BackupReasons.UploadFailled;
  const widened: string extends Reason ? 'widened' : 'narrow' = 'narrow';
  assert.equal(widened, 'narrow');
  assert.equal(new OperatorError(BackupReasons.UploadFailed, 'x').reason, 'UploadFailed');
  assert.ok(typo && condition && missing === undefined);
});

test('every reason is in exactly one catalog, with a one-line meaning', () => {
  const seen = new Map<string, string>();
  for (const group of REASON_GROUPS) {
    for (const [reason, meaning] of reasonsOf(group)) {
      assert.equal(seen.get(reason), undefined, `${reason} is in ${seen.get(reason)} and ${group.id}: write it once (a shared reason goes to src/reasons/common.ts)`);
      seen.set(reason, group.id);
      assert.match(reason, /^[A-Z][A-Za-z]+$/, reason);
      assert.match(meaning, /^[^\n]+[.)]$/, `${reason}: one line, ending with a period`);
      assert.equal(reasonMeaning(reason), meaning);
    }
  }
  assert.ok(seen.size >= 120, `only ${seen.size} reasons`);
  assert.equal(isReason('UploadFailed'), true);
  assert.equal(isReason('NoSuchReason'), false);
  assert.equal(reasonOr('NoSuchReason', 'BackupFailed'), 'BackupFailed');
  assert.equal(reasonOr('DecryptionFailed', 'BackupFailed'), 'DecryptionFailed');
});

test('the reason tables of the docs are the generated ones (`node src/cli/main.ts docs generate`)', async () => {
  for (const doc of REASON_DOCS) {
    const current = await readFile(join(repoRoot, doc.path), 'utf8');
    assert.equal(current, spliceReasonTables(current, doc.groups, doc.path), `${doc.path} is stale`);
    for (const group of doc.groups) assert.ok(current.includes(renderReasonTable(group)), `${doc.path}: ${group.id}`);
  }
});

test('a hand-edited, missing or unknown reason table is caught', async () => {
  const current = await readFile(docPath, 'utf8');
  const edited = current.replace(/^\| `UploadFailed` \| .*$/m, '| `UploadFailed` | edited by hand |');
  assert.notEqual(edited, current);
  assert.equal(spliceReasonTables(edited, REASON_GROUPS, 'docs/conditions.md'), current, 'generate restores the table');
  const group = REASON_GROUPS.find((g) => g.id === 'runtime-reasons')!;
  const withoutRuntime = current.replace(`<!-- reasons: runtime-reasons (generated from the reason catalogs by \`node src/cli/main.ts docs generate\`) -->\n${renderReasonTable(group)}\n<!-- end of generated reasons -->`, '');
  assert.notEqual(withoutRuntime, current);
  assert.throws(() => spliceReasonTables(withoutRuntime, REASON_GROUPS, 'docs/conditions.md'), /no place for the reasons of runtime-reasons/);
  assert.throws(() => spliceReasonTables(current, [group], 'docs/x.md'), /no reason group "common-reasons" belongs in this page/);
});

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

const anchor = (title: string): string => title.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-');

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

test('each reason group has its own section, in order, holding its table', async () => {
  const { groups } = await docSections();
  assert.deepEqual(groups.map((g) => anchor(g.title)), REASON_GROUPS.map((g) => g.id));
  for (const group of REASON_GROUPS) {
    const section = groups.find((g) => anchor(g.title) === group.id)!;
    assert.ok(section.lines.join('\n').includes(renderReasonTable(group)), group.id);
  }
});

test('each kind lists its condition types and links the reason groups it can carry', async () => {
  const { kinds } = await docSections();
  const firstColumn = (lines: readonly string[]): string[] => lines.map((l) => /^\| `([A-Za-z]+)` \|/.exec(l)?.[1]).filter((n): n is string => n !== undefined);
  assert.deepEqual(kinds.map((k) => k.title).sort(), Object.keys(KindConditions).sort());
  for (const section of kinds) {
    const kind = section.title as KindName;
    assert.deepEqual(firstColumn(section.lines), [...KindConditions[kind]], `${kind} condition types`);
    const reasonsLine = section.lines.find((l) => l.startsWith('Reasons: '));
    assert.ok(reasonsLine, `${kind} has a "Reasons:" line`);
    const links = [...reasonsLine.matchAll(/\]\(#([a-z-]+)\)/g)].map((m) => m[1]);
    assert.deepEqual(links, [...KIND_REASON_GROUPS[kind]], `${kind} reason groups`);
  }
  const linked = new Set(Object.values(KIND_REASON_GROUPS).flat());
  assert.deepEqual(REASON_GROUPS.map((g) => g.id).filter((id) => !linked.has(id)), [], 'reason groups no kind links');
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
    assert.ok(used.size >= 1, `${file}: no condition types found`);
    const allowed = new Set<string>(KindConditions[kind]);
    assert.deepEqual([...used].filter((t) => !allowed.has(t)), [], `${file} sets condition types that ${kind} does not list`);
  }
  // The shared Outcome sets the health triple for every kind that is reconciled for good, Succeeded for runs.
  const shared = await readFile(join(repoRoot, 'src/controllers/shared/outcome.ts'), 'utf8');
  const sharedTypes = new Set([...shared.matchAll(/\btype: '(\w+)', status: /g)].map((m) => m[1]!));
  assert.deepEqual([...sharedTypes].sort(), ['Ready', 'Reconciling', 'Stalled', 'Succeeded']);
  for (const kind of ['LokdarpanDatabase', 'BackupPolicy', 'RetentionPolicy'] as const) {
    for (const type of ['Ready', 'Reconciling', 'Stalled']) assert.ok((KindConditions[kind] as readonly string[]).includes(type), `${kind} lists ${type}`);
  }
  for (const kind of ['Backup', 'Restore'] as const) {
    for (const type of ['Ready', 'Succeeded']) assert.ok((KindConditions[kind] as readonly string[]).includes(type), `${kind} lists ${type}`);
  }
});
