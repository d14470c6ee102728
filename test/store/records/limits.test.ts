// Proves store limits validation and inheritance (docs/protocol.md §3.2): reference error texts for
// bad global values and per-channel names, wildcard matching, and inheritance from the widest to
// the narrowest entry with 0 = inherit and negative = unlimited.
import { describe, expect, it } from 'vitest';
import {
  buildStoreLimits,
  channelPatternMatches,
  defaultStoreLimits,
  isValidChannelName,
  limitsForChannel,
  type ChannelLimits,
  type StoreLimits,
} from '../../../src/store/limits.js';

function entry(fields: Partial<ChannelLimits>): ChannelLimits {
  return { maxSubscriptions: 0, maxMsgs: 0, maxBytes: 0, maxAgeMs: 0, maxInactivityMs: 0, ...fields };
}

function limitsWith(perChannel: Array<[string, ChannelLimits]>, maxChannels = 100): StoreLimits {
  return { ...defaultStoreLimits(), maxChannels, perChannel: new Map(perChannel) };
}

describe('limits', () => {
  it('has the reference defaults', () => {
    expect(defaultStoreLimits()).toEqual({
      maxChannels: 100,
      global: { maxSubscriptions: 1000, maxMsgs: 1_000_000, maxBytes: 1_024_000_000, maxAgeMs: 0, maxInactivityMs: 0 },
      perChannel: new Map(),
    });
  });

  it('rejects negative global limits with the reference messages', () => {
    const base = defaultStoreLimits();
    const cases: Array<[StoreLimits, string]> = [
      [{ ...base, maxChannels: -1 }, 'max channels limit cannot be negative (-1)'],
      [{ ...base, global: { ...base.global, maxSubscriptions: -2 } }, 'max subscriptions limit cannot be negative (-2)'],
      [{ ...base, global: { ...base.global, maxMsgs: -3 } }, 'max messages limit cannot be negative (-3)'],
      [{ ...base, global: { ...base.global, maxBytes: -4 } }, 'max bytes limit cannot be negative (-4)'],
      [{ ...base, global: { ...base.global, maxAgeMs: -5 } }, 'max age limit cannot be negative (-5)'],
    ];
    for (const [limits, message] of cases) {
      expect(() => buildStoreLimits(limits)).toThrow(message);
      expect(() => buildStoreLimits(limits)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }) as Error);
    }
    expect(() => buildStoreLimits({ ...base, maxChannels: 1.5 })).toThrow(/must be an integer/);
    expect(() => buildStoreLimits({ ...base, global: { ...base.global, maxMsgs: Number.NaN } })).toThrow(/must be an integer/);
  });

  it('rejects invalid per-channel names and too many literal entries', () => {
    expect(() => buildStoreLimits(limitsWith([['foo..bar', entry({})]]))).toThrow('invalid channel name "foo..bar"');
    expect(() => buildStoreLimits(limitsWith([['a', entry({})], ['b', entry({})], ['c.*', entry({})]], 1))).toThrow(
      'too many channels defined (2). The max channels limit is set to 1',
    );
    expect(() => buildStoreLimits(limitsWith([['a.*', entry({})], ['b.>', entry({})], ['c', entry({})]], 1))).not.toThrow();
  });

  it('validates channel names with and without wildcards', () => {
    for (const good of ['foo', 'foo.bar', 'a-b_c.D1', '$special']) expect(isValidChannelName(good, false)).toBe(true);
    for (const bad of ['', '.foo', 'foo.', 'foo..bar', 'a/b', 'a b', 'a\tb', 'foo.*', 'foo.>', 'f*o', 'fo>']) {
      expect(isValidChannelName(bad, false)).toBe(false);
    }
    for (const good of ['foo.*', 'foo.>', '*', '>', '*.bar.>']) expect(isValidChannelName(good, true)).toBe(true);
    for (const bad of ['foo.>.bar', 'f*o.bar', '>.foo']) expect(isValidChannelName(bad, true)).toBe(false);
  });

  it('matches wildcard patterns token by token', () => {
    expect(channelPatternMatches('foo.*', 'foo.bar')).toBe(true);
    expect(channelPatternMatches('foo.*', 'foo.bar.baz')).toBe(false);
    expect(channelPatternMatches('foo.>', 'foo.bar.baz')).toBe(true);
    expect(channelPatternMatches('foo.>', 'foo')).toBe(false);
    expect(channelPatternMatches('*.bar', 'foo.bar')).toBe(true);
    expect(channelPatternMatches('foo', 'foo')).toBe(true);
    expect(channelPatternMatches('foo', 'foo.bar')).toBe(false);
  });

  it('inherits from the widest to the narrowest entry; 0 inherits, negative is unlimited', () => {
    const built = buildStoreLimits(
      limitsWith([
        ['foo.>', entry({ maxMsgs: 100, maxBytes: 5000 })],
        ['foo.*', entry({ maxMsgs: 50, maxAgeMs: 1000 })],
        ['foo.bar', entry({ maxSubscriptions: -1, maxBytes: 0, maxMsgs: 0 })],
        ['baz', entry({ maxMsgs: -1 })],
      ]),
    );
    const global = defaultStoreLimits().global;
    expect(limitsForChannel(built, 'foo.bar')).toEqual({
      maxSubscriptions: 0, maxMsgs: 50, maxBytes: 5000, maxAgeMs: 1000, maxInactivityMs: 0,
    });
    expect(limitsForChannel(built, 'foo.qux')).toEqual({ ...global, maxMsgs: 50, maxBytes: 5000, maxAgeMs: 1000 });
    expect(limitsForChannel(built, 'foo.a.b')).toEqual({ ...global, maxMsgs: 100, maxBytes: 5000 });
    expect(limitsForChannel(built, 'baz')).toEqual({ ...global, maxMsgs: 0 });
    expect(limitsForChannel(built, 'other')).toEqual(global);
  });

  it('does not change the limits it was given', () => {
    const input = limitsWith([['foo', entry({ maxMsgs: 0 })]]);
    buildStoreLimits(input);
    expect(input.perChannel.get('foo')!.maxMsgs).toBe(0);
  });
});
