// The option table of docs/configuration.md, rendered from the same table the parser uses; a
// test fails when the committed document and this rendering differ.

import type { OptionSpec } from './option-spec.js';
import { optionTable } from './option-table.js';
import { flagSpelling } from './usage.js';

export const docsTableBegin = '<!-- options-table:begin (generated from src/config/option-table.ts) -->';
export const docsTableEnd = '<!-- options-table:end -->';

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|');
}

function confCell(spec: OptionSpec): string {
  return spec.conf
    .map((spelling) => `${spelling.section}: ${spelling.keys.map((key) => `\`${key}\``).join(', ')}`)
    .join('<br>');
}

/** `supported`, `not yet: why`, `refused at start-up: why`, with `tstan only` where it applies. */
function statusText(spec: OptionSpec, detailed: boolean): string {
  let status: string;
  if (!spec.status.supported) status = detailed ? `not yet: ${spec.status.reason}` : 'not yet';
  else if (spec.refusedAtStartup !== undefined) status = detailed ? `parsed and checked, refused at start-up: ${spec.refusedAtStartup}` : 'refused at start-up (not built yet)';
  else status = 'supported';
  return spec.tstanOnly ? `${status} (tstan only)` : status;
}

function defaultCell(spec: OptionSpec, detailed: boolean): string {
  if (spec.defaultText === '') return detailed ? '—' : '';
  const reference = spec.referenceDefault;
  if (reference === undefined) return `\`${spec.defaultText}\``;
  return detailed
    ? `\`${spec.defaultText}\` (nats-streaming-server: \`${reference.text}\`: ${reference.why})`
    : `\`${spec.defaultText}\` (reference: \`${reference.text}\`)`;
}

function row(spec: OptionSpec): string {
  const flags = spec.flags.map((flag, index) => `\`${flagSpelling(flag, index, spec.flags.length)}\``).join(', ');
  const cells = [
    flags === '' ? '—' : flags,
    confCell(spec) === '' ? '—' : confCell(spec),
    spec.kind,
    defaultCell(spec, true),
    spec.usage + (spec.hidden ? ' (not in the reference usage text)' : ''),
    statusText(spec, true),
  ];
  return `| ${cells.map(escapeCell).join(' | ')} |`;
}

/** The markdown tables, one per usage group, between the begin and end markers. */
export function renderOptionsMarkdown(table: readonly OptionSpec[] = optionTable): string {
  const lines = [docsTableBegin];
  const groups = [...new Set(table.map((spec) => spec.group))];
  for (const group of groups) {
    lines.push('', `### ${group}`, '');
    lines.push('| Flags | Conf keys | Type | Default | Meaning | Status |');
    lines.push('|---|---|---|---|---|---|');
    for (const spec of table.filter((item) => item.group === group)) lines.push(row(spec));
  }
  lines.push('', docsTableEnd);
  return lines.join('\n');
}

export const readmeTableBegin = '<!-- options-summary:begin (generated from src/config/option-table.ts) -->';
export const readmeTableEnd = '<!-- options-summary:end -->';

/** A compact table of every option for the README: spellings, default, and whether tstan has it. */
export function renderOptionsSummary(table: readonly OptionSpec[] = optionTable): string {
  const lines = [readmeTableBegin, '', '| option | default | status |', '|---|---|---|'];
  for (const spec of table) {
    const flags = spec.flags.map((flag, index) => `\`${flagSpelling(flag, index, spec.flags.length)}\``).join(', ');
    const name = flags || spec.conf.map((spelling) => `${spelling.section}: \`${spelling.keys[0]}\``).join(', ');
    lines.push(`| ${escapeCell(name)} | ${escapeCell(defaultCell(spec, false))} | ${statusText(spec, false)} |`);
  }
  lines.push('', readmeTableEnd);
  return lines.join('\n');
}
