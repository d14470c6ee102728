// loadOptions(): defaults, then the configuration files (-c for NATS, -sc for streaming), then the
// flags, checked as a whole and frozen. The command line follows Go's flag syntax.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../util/errors.js';
import { applySectionEntries, isKnownKey } from './conf-apply.js';
import { parseConfFile } from './conf-parser.js';
import { findEntry, formatPosition, type ConfEntry, type ConfMap } from './conf-tree.js';
import { parseGoFlags, type FlagOccurrence } from './go-flags.js';
import type { OptionSpec, OptionValue } from './option-spec.js';
import { optionIndex } from './option-table.js';
import { deepFreeze, defaultOptionsDraft, type Options, type OptionsDraft } from './options.js';
import { validateDraft } from './validate.js';
import { isDefaultValue, valueFromFlag } from './values.js';
import { withoutSecret } from './secret-text.js';
import { redactUrlCredentials } from '../transport/nats/url-credentials.js';

interface FlagAssignment {
  readonly spec: OptionSpec;
  readonly value: OptionValue;
  readonly occurrence: FlagOccurrence;
}

/**
 * Builds the options from `argv` (the words after the program name) and `env` (for `$VAR` in
 * configuration files). Throws ConfigError naming the flag, or the file, line and column.
 */
export function loadOptions(argv: readonly string[], env: NodeJS.ProcessEnv): Options {
  const draft = defaultOptionsDraft(readVersion());
  const assignments = parseFlags(argv, draft);
  if (draft.action !== 'run' && draft.action !== 'check') return deepFreeze(draft as Options);
  const natsFile = lastValue(assignments, 'nats.config');
  const stanFile = lastValue(assignments, 'streaming.stan_config');
  const same = natsFile !== '' && stanFile !== '' && resolve(natsFile) === resolve(stanFile);
  if (natsFile !== '') {
    applyFile(draft, parseConfFile(natsFile, { env }), { nats: true, streaming: stanFile === '' || same }, 'nats');
  }
  if (stanFile !== '' && !same) {
    applyFile(draft, parseConfFile(stanFile, { env }), { nats: natsFile === '', streaming: true }, 'streaming');
  }
  for (const late of [false, true]) {
    for (const assignment of assignments) {
      if (assignment.spec.late === late) applyFlag(draft, assignment);
    }
  }
  applyEncryptionKeyFromEnv(draft, env);
  validateDraft(draft);
  return deepFreeze(draft as Options);
}

/** The environment variable the reference reads the encryption key from, in preference to the option. */
export const ENCRYPTION_KEY_ENV = 'NATS_STREAMING_ENCRYPTION_KEY';

/**
 * As the reference: encryption is on with `-encrypt` or with a key given as an option, and then
 * the environment's key, when set, wins over the option's (keeping the key out of files and argv).
 */
function applyEncryptionKeyFromEnv(draft: OptionsDraft, env: NodeJS.ProcessEnv): void {
  const streaming = draft.streaming;
  if (!streaming.encrypt && streaming.encryptionKey === '') return;
  streaming.encrypt = true;
  const fromEnv = env[ENCRYPTION_KEY_ENV] ?? '';
  if (fromEnv !== '') streaming.encryptionKey = fromEnv;
}

function parseFlags(argv: readonly string[], draft: OptionsDraft): FlagAssignment[] {
  const parsed = parseGoFlags(argv, (name) => {
    const spec = optionIndex.byFlag.get(name);
    return spec === undefined ? undefined : spec.kind === 'bool';
  });
  const assignments: FlagAssignment[] = [];
  for (const occurrence of parsed.flags) {
    const spec = optionIndex.byFlag.get(occurrence.name);
    if (spec === undefined) throw new ConfigError(`flag provided but not defined: -${occurrence.name}`);
    const value = valueFromFlag(spec, occurrence.value);
    const invalid = typeof value === 'object' && !Array.isArray(value) && 'error' in value;
    if (!spec.status.supported && (invalid || !isDefaultValue(spec, value))) {
      throw new ConfigError(`tstan does not support -${occurrence.name} yet: ${spec.status.reason}`);
    }
    if (invalid) {
      throw new ConfigError(`invalid value ${shownValue(spec, occurrence.value)} for flag -${occurrence.name}: ${value.error}`);
    }
    assignments.push({ spec, value, occurrence });
  }
  for (const word of parsed.positional) {
    // As nats-server does: the words "version" and "help" are commands, anything else an error.
    if (word === 'version' && draft.action === 'run') draft.action = 'version';
    else if (word === 'help') draft.action = 'help';
    else throw new ConfigError(`unrecognized command: "${word}"${boolHint(parsed.flags, word)}`);
  }
  for (const assignment of assignments) {
    if (['common.help', 'common.version', 'common.help_tls'].includes(assignment.spec.id)) applyFlag(draft, assignment);
  }
  return assignments;
}

/** `-SD false` is the classic slip: Go stops at `false`. Say how to write it. */
function boolHint(flags: readonly FlagOccurrence[], word: string): string {
  const last = flags[flags.length - 1];
  if (last === undefined || !['true', 'false', '0', '1'].includes(word)) return '';
  if (optionIndex.byFlag.get(last.name)?.kind !== 'bool' || last.written.includes('=')) return '';
  return ` (a boolean flag takes its value after "=": -${last.name}=${word})`;
}

function applyFlag(draft: OptionsDraft, assignment: FlagAssignment): void {
  if (!assignment.spec.status.supported) return;
  try {
    assignment.spec.apply(draft, assignment.value);
  } catch (error) {
    const { spec, occurrence } = assignment;
    // A secret's value (a password, a URL with one) is not repeated, even inside what apply() said.
    const said = error instanceof Error ? error.message : String(error);
    const reason = spec.secret ? withoutSecret(said, occurrence.value) : said;
    throw new ConfigError(`invalid value ${shownValue(spec, occurrence.value)} for flag -${occurrence.name}: ${reason}`);
  }
}

/** A value as an error message may show it: a secret never, a URL without its credentials. */
function shownValue(spec: OptionSpec, value: string): string {
  if (!spec.secret) return `"${value}"`;
  return value.includes('://') ? `"${redactUrlCredentials(value)}"` : '(not shown: it is a secret)';
}

function lastValue(assignments: readonly FlagAssignment[], id: string): string {
  let value = '';
  for (const assignment of assignments) if (assignment.spec.id === id) value = String(assignment.value);
  return value;
}

interface FileRoles {
  readonly nats: boolean;
  readonly streaming: boolean;
}

/**
 * Sorts the top-level keys of one file between NATS and streaming. A `streaming {}` block holds
 * the streaming part; without one, streaming keys may sit at the top level next to NATS keys, and
 * a key both understand (`cluster`, `tls`) belongs to the role the file was given for.
 */
function applyFile(draft: OptionsDraft, tree: ConfMap, roles: FileRoles, prefer: 'nats' | 'streaming'): void {
  const streamingBlock = findEntry(tree, ['streaming']);
  const natsEntries: ConfEntry[] = [];
  const streamingEntries: ConfEntry[] = [];
  for (const entry of tree.values()) {
    if (entry.key.toLowerCase() === 'streaming') continue;
    const natsKey = isKnownKey('nats', entry.key);
    const streamingKey = streamingBlock === undefined && isKnownKey('streaming', entry.key);
    if (natsKey && (!streamingKey || prefer === 'nats')) natsEntries.push(entry);
    else if (streamingKey) streamingEntries.push(entry);
    else if (!entry.usedAsVariable) {
      throw new ConfigError(`${formatPosition(entry.keyPosition)}: unknown key "${entry.key}" in the configuration file`);
    }
  }
  if (roles.nats) applySectionEntries(draft, 'nats', natsEntries);
  if (!roles.streaming) return;
  if (streamingBlock === undefined) {
    applySectionEntries(draft, 'streaming', streamingEntries);
  } else if (streamingBlock.value.type !== 'map') {
    throw new ConfigError(`${formatPosition(streamingBlock.keyPosition)}: "streaming" must be a block { ... }`);
  } else {
    applySectionEntries(draft, 'streaming', streamingBlock.value.entries.values());
  }
}

/** tstan's version, from the package.json above this module (src/config/, dist/src/config/ or the dist/bin/ bundle). */
export function readVersion(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const parsed = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (parsed.name === 'tstan' && typeof parsed.version === 'string') return parsed.version;
    } catch {
      // Try the next level up.
    }
  }
  return '0.0.0';
}
