// Applies the keys of a parsed configuration file to the options draft, section by section, with
// the reference's aliases. Unknown keys and unsupported settings are errors naming file and line.

import { ConfigError } from '../util/errors.js';
import { describeType, formatPosition, type ConfEntry, type ConfValue } from './conf-tree.js';
import type { ConfSection, OptionSpec } from './option-spec.js';
import { optionIndex } from './option-table.js';
import { newTlsDraft, type ChannelLimits, type OptionsDraft } from './options.js';
import { isDefaultValue, valueFromConf } from './values.js';
import { isChannelPatternValid } from './validate.js';
import { parseGoDurationMs } from './go-duration.js';
import { permissionsOf, structuredAuthorizationKeys, usersOf } from './conf-authorization.js';
import { withoutSecret } from './secret-text.js';

interface BlockTarget {
  readonly section: ConfSection;
  readonly enter?: (draft: OptionsDraft) => void;
  /** After the block's keys: what needs them all (default permissions fill users without any). */
  readonly leave?: (draft: OptionsDraft, entries: ReadonlyMap<string, ConfEntry>) => void;
}

/** `permissions` in the authorization block: the permissions of every user listed without any. */
function applyDefaultPermissions(draft: OptionsDraft, entries: ReadonlyMap<string, ConfEntry>): void {
  let defaults: ConfEntry | undefined;
  for (const entry of entries.values()) {
    if (['permissions', 'default_permissions', 'default_permission'].includes(entry.key.toLowerCase()) && !entry.usedAsVariable) defaults = entry;
  }
  if (defaults === undefined) return;
  const permissions = permissionsOf(defaults.value);
  for (const user of draft.nats.users) {
    if (user.permissions === null) user.permissions = structuredClone(permissions) as OptionsDraft['nats']['users'][number]['permissions'];
  }
}

const perChannelKeys = ['channels', 'channels_limits', 'channelslimits', 'per_channel', 'per_channel_limits'];

const blocks: Readonly<Partial<Record<ConfSection, ReadonlyMap<string, BlockTarget>>>> = {
  nats: new Map<string, BlockTarget>([
    ['cluster', { section: 'nats.cluster' }],
    ['authorization', { section: 'nats.authorization', leave: applyDefaultPermissions }],
    // A `tls {}` block turns TLS on; its keys then fill the settings in.
    ['tls', { section: 'nats.tls', enter: (draft) => { draft.nats.tls = newTlsDraft(); } }],
  ]),
  'nats.cluster': new Map<string, BlockTarget>([
    ['tls', { section: 'nats.cluster.tls', enter: (draft) => { draft.routes.tls = newTlsDraft(); } }],
    ['authorization', { section: 'nats.cluster.authorization' }],
  ]),
  streaming: new Map<string, BlockTarget>([
    ...['store_limits', 'limits', 'storelimits'].map((key) => [key, { section: 'streaming.store_limits' }] as const),
    ...['file', 'file_options'].map((key) => [key, { section: 'streaming.file' }] as const),
    ...['sql', 'sql_options'].map((key) => [key, { section: 'streaming.sql' }] as const),
    ['tls', { section: 'streaming.tls' }],
    ['cluster', { section: 'streaming.cluster', enter: (draft) => { draft.clustering.clustered = true; } }],
  ]),
};

const sectionTitles: Readonly<Record<ConfSection, string>> = {
  nats: 'the NATS configuration',
  'nats.authorization': 'the authorization block',
  'nats.tls': 'the tls block',
  'nats.cluster': 'the NATS cluster block',
  'nats.cluster.tls': 'the cluster tls block',
  'nats.cluster.authorization': 'the cluster authorization block',
  streaming: 'the streaming configuration',
  'streaming.store_limits': 'the store_limits block',
  'streaming.file': 'the file block',
  'streaming.cluster': 'the streaming cluster block',
  'streaming.sql': 'the sql block',
  'streaming.tls': 'the streaming tls block',
};

/** True when `key` (any case) means something in `section`: an option or a nested block. */
export function isKnownKey(section: ConfSection, key: string): boolean {
  const lower = key.toLowerCase();
  if (optionIndex.byConfKey.get(section)?.has(lower) === true) return true;
  if (blocks[section]?.has(lower) === true) return true;
  return section === 'streaming.store_limits' && perChannelKeys.includes(lower);
}

/** Applies entries of `section` in the order written (a later key overrides an earlier one). */
export function applySectionEntries(draft: OptionsDraft, section: ConfSection, entries: Iterable<ConfEntry>): void {
  for (const entry of entries) applyEntry(draft, section, entry);
}

function applyEntry(draft: OptionsDraft, section: ConfSection, entry: ConfEntry): void {
  const lower = entry.key.toLowerCase();
  const where = formatPosition(entry.keyPosition);
  const block = blocks[section]?.get(lower);
  if (block !== undefined) {
    const map = expectMap(entry);
    block.enter?.(draft);
    applySectionEntries(draft, block.section, map.values());
    block.leave?.(draft, map);
    return;
  }
  if (section === 'nats.authorization' && structuredAuthorizationKeys.includes(lower)) {
    // `users` is read here; the default permissions once the whole block is known (leave).
    if (lower === 'users') draft.nats.users = usersOf(entry) as OptionsDraft['nats']['users'];
    else permissionsOf(entry.value);
    return;
  }
  if (section === 'streaming.store_limits' && perChannelKeys.includes(lower)) {
    applyPerChannel(draft, entry);
    return;
  }
  const spec = optionIndex.byConfKey.get(section)?.get(lower);
  if (spec === undefined) {
    if (entry.usedAsVariable) return;
    throw new ConfigError(`${where}: unknown key "${entry.key}" in ${sectionTitles[section]}`);
  }
  // `TOKEN: x` read as $TOKEN is a variable that happens to share an unsupported option's name.
  if (entry.usedAsVariable && !spec.status.supported) return;
  applyOption(draft, spec, entry.key, entry.value, where);
}

/** Applies one option value; shared with nothing else so every conf error carries its position. */
function applyOption(draft: OptionsDraft, spec: OptionSpec, key: string, node: ConfValue, where: string): void {
  const value = valueFromConf(spec, node);
  const invalid = typeof value === 'object' && !Array.isArray(value) && 'error' in value;
  if (!spec.status.supported) {
    // Whatever the value, setting an unsupported option asks for something tstan lacks.
    if (!invalid && isDefaultValue(spec, value)) return;
    throw new ConfigError(`${where}: tstan does not support "${key}" yet: ${spec.status.reason}`);
  }
  if (invalid) throw new ConfigError(`${where}: "${key}": ${value.error}`);
  if (spec.secret) {
    // The value may be the secret: it is taken out of whatever apply() says.
    try {
      spec.apply(draft, value);
    } catch (error) {
      const said = error instanceof Error ? error.message : String(error);
      throw new ConfigError(`${where}: "${key}": ${typeof value === 'string' ? withoutSecret(said, value) : said}`);
    }
    return;
  }
  try {
    spec.apply(draft, value);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${where}: "${key}": ${error instanceof Error ? error.message : String(error)}`);
  }
}

function expectMap(entry: ConfEntry): ReadonlyMap<string, ConfEntry> {
  if (entry.value.type !== 'map') {
    throw new ConfigError(
      `${formatPosition(entry.keyPosition)}: "${entry.key}" must be a block { ... }, got ${describeType(entry.value)}`,
    );
  }
  return entry.value.entries;
}

type LimitField = keyof ChannelLimits;
const channelLimitKeys: readonly (readonly [readonly string[], LimitField, 'int' | 'size' | 'duration'])[] = [
  [['msu', 'max_subs', 'max_subscriptions', 'maxsubscriptions'], 'maxSubscriptions', 'int'],
  [['mm', 'max_msgs', 'maxmsgs', 'max_count', 'maxcount'], 'maxMsgs', 'int'],
  [['mb', 'max_bytes', 'maxbytes'], 'maxBytes', 'size'],
  [['ma', 'max_age', 'maxage'], 'maxAgeMs', 'duration'],
  [['mi', 'max_inactivity', 'maxinactivity'], 'maxInactivityMs', 'duration'],
];

/** `channels { "foo.*": { max_msgs: 10 } }`: 0 written here means unlimited, as in the reference. */
function applyPerChannel(draft: OptionsDraft, entry: ConfEntry): void {
  for (const channelEntry of expectMap(entry).values()) {
    const where = formatPosition(channelEntry.keyPosition);
    if (!isChannelPatternValid(channelEntry.key)) {
      throw new ConfigError(`${where}: invalid channel name "${channelEntry.key}"`);
    }
    const limits: Record<LimitField, number> = {
      maxSubscriptions: 0, maxMsgs: 0, maxBytes: 0, maxAgeMs: 0, maxInactivityMs: 0,
    };
    for (const limitEntry of expectMap(channelEntry).values()) {
      const lower = limitEntry.key.toLowerCase();
      const row = channelLimitKeys.find(([keys]) => keys.includes(lower));
      const limitWhere = formatPosition(limitEntry.keyPosition);
      if (row === undefined) {
        if (limitEntry.usedAsVariable) continue;
        throw new ConfigError(`${limitWhere}: unknown key "${limitEntry.key}" in the limits of channel "${channelEntry.key}"`);
      }
      const value = channelLimitValue(limitEntry.value, row[2]);
      if (value === undefined) {
        throw new ConfigError(`${limitWhere}: "${limitEntry.key}": expected ${row[2] === 'duration' ? 'a duration string' : 'an integer'}, got ${describeType(limitEntry.value)}`);
      }
      limits[row[1]] = value === 0 ? -1 : value;
    }
    const existing = draft.streaming.limits.perChannel.findIndex((item) => item.channel === channelEntry.key);
    if (existing >= 0) draft.streaming.limits.perChannel.splice(existing, 1);
    draft.streaming.limits.perChannel.push({ channel: channelEntry.key, limits });
  }
}

function channelLimitValue(node: ConfValue, kind: 'int' | 'size' | 'duration'): number | undefined {
  if (kind === 'duration') {
    if (node.type === 'string') return parseGoDurationMs(node.value);
    if (node.type === 'int' && node.suffixed !== undefined) return parseGoDurationMs(node.suffixed);
    return node.type === 'int' ? node.value * 1_000 : undefined;
  }
  return node.type === 'int' ? node.value : undefined;
}
