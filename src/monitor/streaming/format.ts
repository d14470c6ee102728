// Small formatting rules the reference monitoring JSON follows: Go's lenient Atoi on query
// parameters, offset/limit clamping, the uptime string, limits as the Go JSON tags render them.

import type { ChannelLimits, StoreLimits } from '../../store/limits.js';

export const DEFAULT_LIST_LIMIT = 1024;
const NS_PER_MS = 1_000_000;

/** Go's strconv.Atoi as the reference uses it: a malformed value counts as 0, never an error. */
export function atoiOrZero(value: string | null): number {
  if (value === null || !/^[+-]?\d{1,15}$/.test(value)) return 0;
  return Number.parseInt(value, 10);
}

export function offsetAndLimit(query: URLSearchParams): { offset: number; limit: number } {
  const offset = Math.max(0, atoiOrZero(query.get('offset')));
  const limit = atoiOrZero(query.get('limit'));
  return { offset, limit: limit <= 0 ? DEFAULT_LIST_LIMIT : limit };
}

/** The page [offset, offset+limit) of `items`, clamped to its length. */
export function page<T>(items: readonly T[], offset: number, limit: number): T[] {
  const start = Math.min(offset, items.length);
  return items.slice(start, Math.min(offset + limit, items.length));
}

/** Uptime as the reference prints it: `1y2d3h4m5s`, leading zero units left out. */
export function formatUptime(elapsedMs: number): string {
  const secs = Math.max(0, Math.floor(elapsedMs / 1000));
  const mins = Math.floor(secs / 60);
  const hours = Math.floor(mins / 60);
  const days = Math.floor(hours / 24);
  const years = Math.floor(days / 365);
  if (years > 0) return `${years}y${days % 365}d${hours % 24}h${mins % 60}m${secs % 60}s`;
  if (days > 0) return `${days}d${hours % 24}h${mins % 60}m${secs % 60}s`;
  if (hours > 0) return `${hours}h${mins % 60}m${secs % 60}s`;
  if (mins > 0) return `${mins}m${secs % 60}s`;
  return `${secs}s`;
}

export function formatTime(ms: number): string {
  return new Date(ms).toISOString();
}

function channelLimitsJson(limits: ChannelLimits): Record<string, number> {
  return {
    max_msgs: limits.maxMsgs,
    max_bytes: limits.maxBytes,
    max_age: limits.maxAgeMs * NS_PER_MS,
    max_subscriptions: limits.maxSubscriptions,
    max_inactivity: limits.maxInactivityMs * NS_PER_MS,
  };
}

/** Limits with the reference JSON keys; durations in nanoseconds as Go encodes time.Duration. */
export function storeLimitsJson(limits: StoreLimits): Record<string, unknown> {
  const json: Record<string, unknown> = { max_channels: limits.maxChannels, ...channelLimitsJson(limits.global) };
  if (limits.perChannel.size > 0) {
    // fromEntries defines own properties, so a channel named `__proto__` stays a plain key.
    json['channels'] = Object.fromEntries(
      [...limits.perChannel.keys()].sort().map((name) => [name, channelLimitsJson(limits.perChannel.get(name)!)]),
    );
  }
  return json;
}
