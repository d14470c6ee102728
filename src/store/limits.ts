// Store limits, global and per channel (docs/protocol.md §3.2), validated with the reference server's
// messages. Per-channel entries may use wildcards (`foo.*`, `foo.>`); inheritance runs from the
// widest matching entry to the narrowest: 0 inherits the parent's value, a negative value means
// unlimited (stored as 0). Global values may not be negative. Durations are milliseconds.

import { ConfigError } from '../util/errors.js';

export interface ChannelLimits {
  /** 0 = unlimited */
  maxSubscriptions: number;
  maxMsgs: number;
  maxBytes: number;
  maxAgeMs: number;
  /** Delete the channel after this long without messages or active subscriptions; 0 = never. */
  maxInactivityMs: number;
}

export interface StoreLimits {
  /** 0 = unlimited */
  maxChannels: number;
  /** The defaults every channel inherits from. */
  global: ChannelLimits;
  /** Per-channel entries, keyed by channel name or wildcard pattern. */
  perChannel: ReadonlyMap<string, ChannelLimits>;
}

export function defaultChannelLimits(): ChannelLimits {
  return { maxSubscriptions: 1000, maxMsgs: 1_000_000, maxBytes: 1_000_000 * 1024, maxAgeMs: 0, maxInactivityMs: 0 };
}

export function defaultStoreLimits(): StoreLimits {
  return { maxChannels: 100, global: defaultChannelLimits(), perChannel: new Map() };
}

const LIMIT_KEYS = ['maxSubscriptions', 'maxMsgs', 'maxBytes', 'maxAgeMs', 'maxInactivityMs'] as const;

const FORBIDDEN_CHANNEL_CHARS = /[\s/\\\u0000]/;

/**
 * A channel name is a NATS subject that is also a directory name: non-empty tokens separated by
 * single dots, no `/`, `\`, whitespace or NUL. Wildcard tokens (`*`, and `>` as the last token)
 * are accepted only when `wildcardsAllowed` (limits configuration); `*`/`>` inside a token never.
 */
export function isValidChannelName(name: string, wildcardsAllowed: boolean): boolean {
  if (typeof name !== 'string' || name.length === 0 || FORBIDDEN_CHANNEL_CHARS.test(name)) return false;
  const tokens = name.split('.');
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.length === 0) return false;
    if (token === '*' || (token === '>' && i === tokens.length - 1)) {
      if (!wildcardsAllowed) return false;
      continue;
    }
    if (token.includes('*') || token.includes('>')) return false;
  }
  return true;
}

export function isLiteralChannel(name: string): boolean {
  return !name.split('.').some((t) => t === '*' || t === '>');
}

/** Whether `pattern` (possibly with wildcards) matches `subject`, whose tokens are taken literally. */
export function channelPatternMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const token = p[i]!;
    if (token === '>') return s.length > i;
    if (i >= s.length) return false;
    if (token !== '*' && token !== s[i]) return false;
  }
  return p.length === s.length;
}

/** Orders patterns from the widest to the narrowest, as the reference's sublist does. */
function compareWidestFirst(a: string, b: string): number {
  const ta = a.split('.');
  const tb = b.split('.');
  const literalsA = ta.filter((t) => t !== '*' && t !== '>').length;
  const literalsB = tb.filter((t) => t !== '*' && t !== '>').length;
  if (literalsA !== literalsB) return literalsA - literalsB;
  const fullA = ta[ta.length - 1] === '>' ? 1 : 0;
  const fullB = tb[tb.length - 1] === '>' ? 1 : 0;
  if (fullA !== fullB) return fullB - fullA;
  if (ta.length !== tb.length) return ta.length - tb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkNumber(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !Number.isInteger(value)) {
    throw new ConfigError(`${what} limit must be an integer (${String(value)})`);
  }
  return value;
}

function checkGlobalLimits(limits: StoreLimits): void {
  const checks: Array<[number, string]> = [
    [checkNumber(limits.maxChannels, 'max channels'), 'max channels'],
    [checkNumber(limits.global.maxSubscriptions, 'max subscriptions'), 'max subscriptions'],
    [checkNumber(limits.global.maxMsgs, 'max messages'), 'max messages'],
    [checkNumber(limits.global.maxBytes, 'max bytes'), 'max bytes'],
    [checkNumber(limits.global.maxAgeMs, 'max age'), 'max age'],
    [checkNumber(limits.global.maxInactivityMs, 'max inactivity'), 'max inactivity'],
  ];
  for (const [value, what] of checks) {
    if (value < 0) throw new ConfigError(`${what} limit cannot be negative (${value})`);
  }
}

function inherit(own: ChannelLimits, parent: ChannelLimits, name: string): ChannelLimits {
  const result = { ...parent };
  for (const key of LIMIT_KEYS) {
    const value = checkNumber(own[key], `channel ${JSON.stringify(name)} ${key}`);
    result[key] = value < 0 ? 0 : value === 0 ? parent[key] : value;
  }
  return result;
}

/**
 * Validates `limits` and returns a copy whose per-channel entries hold their effective values
 * (inheritance applied), ready for `limitsForChannel`. Throws ConfigError with the reference text.
 */
export function buildStoreLimits(limits: StoreLimits): StoreLimits {
  checkGlobalLimits(limits);
  const names = [...limits.perChannel.keys()];
  let literals = 0;
  for (const name of names) {
    if (!isValidChannelName(name, true)) throw new ConfigError(`invalid channel name ${JSON.stringify(name)}`);
    if (isLiteralChannel(name)) {
      literals++;
      if (limits.maxChannels > 0 && literals > limits.maxChannels) {
        throw new ConfigError(
          `too many channels defined (${literals}). The max channels limit is set to ${limits.maxChannels}`,
        );
      }
    }
  }
  names.sort(compareWidestFirst);
  const resolved = new Map<string, ChannelLimits>();
  for (const name of names) {
    // The parent is the narrowest entry, processed before this one, that covers this name.
    let parent = limits.global;
    for (const other of names) {
      if (other === name) break;
      if (channelPatternMatches(other, name)) parent = resolved.get(other)!;
    }
    resolved.set(name, inherit(limits.perChannel.get(name)!, parent, name));
  }
  return { maxChannels: limits.maxChannels, global: { ...limits.global }, perChannel: resolved };
}

/**
 * Effective limits of a concrete channel from BUILT limits: the literal entry if any, else the
 * narrowest wildcard entry matching it, else the global limits.
 */
export function limitsForChannel(built: StoreLimits, channel: string): ChannelLimits {
  const literal = built.perChannel.get(channel);
  if (literal !== undefined) return literal;
  let best: string | undefined;
  for (const pattern of built.perChannel.keys()) {
    if (isLiteralChannel(pattern) || !channelPatternMatches(pattern, channel)) continue;
    if (best === undefined || compareWidestFirst(best, pattern) < 0) best = pattern;
  }
  return best === undefined ? built.global : built.perChannel.get(best)!;
}
