// The `-h` text, grouped like the reference server's, generated from the option table so that it
// cannot drift from what the parser accepts.

import { OptionGroup, type OptionSpec } from './option-spec.js';
import { optionTable } from './option-table.js';

/**
 * `-cid, --cluster_id`, `-SDV`, `--dir`: as in the reference's text, a short first name takes one
 * dash and long names two. Both always work.
 */
export function flagSpelling(flag: string, index: number, count: number): string {
  const short = index === 0 && (flag.length <= 2 || /[A-Z]/.test(flag) || (flag.length <= 3 && count > 1));
  return short ? `-${flag}` : `--${flag}`;
}

function usageLine(spec: OptionSpec): string {
  const names = spec.flags.map((flag, index) => flagSpelling(flag, index, spec.flags.length)).join(', ');
  const argument = spec.kind === 'bool' ? '' : ` ${spec.argName}`;
  const left = `    ${names}${argument}`;
  const defaultNote = spec.kind === 'bool' || spec.defaultText === '' ? '' : ` (default: ${spec.defaultText})`;
  const status = spec.status.supported ? '' : ' [not yet supported]';
  return `${left.padEnd(44)} ${spec.usage}${defaultNote}${status}`;
}

/** The full usage text printed by `-h`. */
export function usageText(table: readonly OptionSpec[] = optionTable): string {
  const lines = ['', 'Usage: tstan [options]', ''];
  for (const group of Object.values(OptionGroup)) {
    const specs = table.filter((spec) => spec.group === group && spec.flags.length > 0 && !spec.hidden);
    if (specs.length === 0) continue;
    lines.push(`${group}:`);
    for (const spec of specs) lines.push(usageLine(spec));
    lines.push('');
  }
  lines.push('Configuration files: -c takes the NATS part, -sc the streaming part (its `streaming {}` block,');
  lines.push('or its top level). Flags override files, files override defaults.');
  lines.push('');
  return lines.join('\n');
}

/** The `-v` text. */
export function versionText(version: string): string {
  return `tstan version ${version}, NATS Streaming protocol compatible with nats-streaming-server v0.25.6`;
}

/** The `--help_tls` text. */
export function tlsHelpText(): string {
  return 'tstan does not support TLS yet: the --tls* flags and tls {} blocks are refused at start-up.\n';
}
