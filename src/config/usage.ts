// The `-h` text, grouped like the reference server's, generated from the option table so that it
// cannot drift from what the parser accepts.

import { OptionGroup, type OptionSpec } from './option-spec.js';
import { optionTable } from './option-table.js';
import { knownCipherSuites, knownCurves } from '../transport/nats/tls-settings.js';

/**
 * `-cid, --cluster_id`, `-SDV`, `--dir`: as in the reference's text, a short first name takes one
 * dash and long names two. Both always work.
 */
export function flagSpelling(flag: string, index: number, count: number): string {
  const short = index === 0 && (flag.length <= 2 || /[A-Z]/.test(flag) || (flag.length <= 3 && count > 1));
  return short ? `-${flag}` : `--${flag}`;
}

/**
 * `(default: x)`: every non-empty default, booleans that default to true included (a false one
 * goes without saying), and the reference's value beside ours where they differ.
 */
function defaultNote(spec: OptionSpec): string {
  const shown = spec.kind === 'bool' ? spec.defaultValue === true || spec.referenceDefault !== undefined : spec.defaultText !== '';
  if (!shown) return '';
  const reference = spec.referenceDefault === undefined ? '' : `; nats-streaming-server: ${spec.referenceDefault.text}`;
  return ` (default: ${spec.defaultText}${reference})`;
}

function statusNote(spec: OptionSpec): string {
  if (!spec.status.supported) return ' [not yet supported]';
  if (spec.refusedAtStartup !== undefined) return ' [not available yet]';
  return spec.tstanOnly ? ' [tstan only]' : '';
}

function usageLine(spec: OptionSpec): string {
  const names = spec.flags.map((flag, index) => flagSpelling(flag, index, spec.flags.length)).join(', ');
  const argument = spec.kind === 'bool' ? '' : ` ${spec.argName}`;
  const left = `    ${names}${argument}`;
  return `${left.padEnd(44)} ${spec.usage}${defaultNote(spec)}${statusNote(spec)}`;
}

/** The closing paragraph of -h: where our defaults differ from the reference's, and why. */
function differingDefaults(table: readonly OptionSpec[]): string[] {
  const differing = table.filter((spec) => spec.referenceDefault !== undefined && spec.flags.length > 0);
  if (differing.length === 0) return [];
  const lines = ['Defaults that differ from nats-streaming-server:'];
  for (const spec of differing) {
    const name = flagSpelling(spec.flags[spec.flags.length - 1]!, spec.flags.length - 1, spec.flags.length);
    lines.push(`    ${name} is ${spec.defaultText} (nats-streaming-server: ${spec.referenceDefault!.text}): ${spec.referenceDefault!.why}.`);
  }
  lines.push('');
  return lines;
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
  lines.push(...differingDefaults(table));
  lines.push('Configuration files: -c takes the NATS part, -sc the streaming part (its `streaming {}` block,');
  lines.push('or its top level). Flags override files, files override defaults.');
  lines.push('');
  return lines.join('\n');
}

/** The `-v` text, one line. */
export function versionText(version: string): string {
  return `tstan version ${version}, NATS Streaming protocol compatible with nats-streaming-server v0.25.6\n`;
}

/** The `--help_tls` text: the tls block, and the names cipher_suites and curve_preferences take. */
export function tlsHelpText(): string {
  return [
    '',
    'TLS configuration is specified in the tls section of a configuration file:',
    '',
    'e.g.',
    '',
    '    tls {',
    '        cert_file:      "./certs/server-cert.pem"',
    '        key_file:       "./certs/server-key.pem"',
    '        ca_file:        "./certs/ca.pem"',
    '        verify:         true',
    '        timeout:        2',
    '',
    '        cipher_suites: [',
    '            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",',
    '            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"',
    '        ]',
    '        curve_preferences: [',
    '            "CurveP256",',
    '            "CurveP384",',
    '            "CurveP521"',
    '        ]',
    '    }',
    '',
    'The same block inside cluster {} secures the routes (add `insecure: true` to skip verifying',
    'the routes this server dials). cipher_suites chooses among TLS 1.2 suites; TLS 1.3 suites are',
    'always on. Suites OpenSSL no longer offers (RC4, 3DES) are accepted and never negotiated.',
    '',
    'Available cipher suites include:',
    ...knownCipherSuites().map((name) => `    ${name}`),
    '',
    'Available curve preferences include:',
    ...knownCurves().map((name) => `    ${name}`),
    '',
  ].join('\n');
}
