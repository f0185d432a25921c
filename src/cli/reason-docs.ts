// The reason tables of docs/conditions.md and docs/retention.md, generated from the reason catalogs
// (src/reasons/index.ts). Only the tables between the marker comments are generated; the headings and
// the prose around them are written by hand. `lokdarpan docs generate|check` writes and checks them.
import { REASON_GROUPS, reasonsOf, type ReasonGroup } from '../reasons/index.ts';

export interface ReasonDoc {
  path: string;
  groups: readonly ReasonGroup[];
}

export const REASON_DOCS: readonly ReasonDoc[] = [
  { path: 'docs/conditions.md', groups: REASON_GROUPS },
  { path: 'docs/retention.md', groups: REASON_GROUPS.filter((g) => g.id === 'retention-engine-reasons') },
];

const BEGIN = /^<!-- reasons: ([a-z-]+) \(generated from the reason catalogs by `node src\/cli\/main\.ts docs generate`\) -->$/;
const END = '<!-- end of generated reasons -->';

export const beginMarker = (id: string): string =>
  `<!-- reasons: ${id} (generated from the reason catalogs by \`node src/cli/main.ts docs generate\`) -->`;

/** Makes text safe inside a Markdown table cell. */
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n+/g, ' ');

export function renderReasonTable(group: ReasonGroup): string {
  const rows = reasonsOf(group).map(([reason, meaning]) => `| \`${reason}\` | ${cell(meaning)} |`);
  return ['| reason | meaning and what to do |', '|---|---|', ...rows].join('\n');
}

/** `markdown` with the table of every group replaced by the generated one; throws on a missing, repeated or unknown marker. */
export function spliceReasonTables(markdown: string, groups: readonly ReasonGroup[], path: string): string {
  const lines = markdown.split('\n');
  const out: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const id = BEGIN.exec(lines[i]!)?.[1];
    if (id === undefined) {
      out.push(lines[i]!);
      continue;
    }
    const group = groups.find((g) => g.id === id);
    if (!group) throw new Error(`${path}:${i + 1}: no reason group "${id}" belongs in this page`);
    if (seen.has(id)) throw new Error(`${path}:${i + 1}: the reasons of "${id}" appear twice`);
    seen.add(id);
    const end = lines.indexOf(END, i + 1);
    if (end < 0) throw new Error(`${path}:${i + 1}: "${END}" is missing after the reasons of "${id}"`);
    out.push(lines[i]!, renderReasonTable(group), END);
    i = end;
  }
  const missing = groups.filter((g) => !seen.has(g.id)).map((g) => g.id);
  if (missing.length > 0) throw new Error(`${path}: no place for the reasons of ${missing.join(', ')} (add "${beginMarker(missing[0]!)}" ... "${END}")`);
  return out.join('\n');
}
