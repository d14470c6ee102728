// Proves the Go flag syntax, Go durations and NATS size literals are read as Go and nats-server
// read them, by feeding the parsers the spellings users write and the mistakes they make.

import { describe, expect, it } from 'vitest';
import { parseGoBool, parseGoFlags, parseGoInt } from '../../src/config/go-flags.js';
import { formatGoDuration, parseGoDurationMs } from '../../src/config/go-duration.js';
import { parseSizeBytes } from '../../src/config/size.js';
import { ConfigError } from '../../src/util/errors.js';

const known: Readonly<Record<string, boolean>> = { cid: false, c: false, SD: true, D: true, p: false, sd: false };
const isBool = (name: string): boolean | undefined => known[name];

function errorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('Go flag syntax', () => {
  it('treats -x and --x alike, with the value as the next word or after =', () => {
    for (const argv of [['-cid', 'a'], ['--cid', 'a'], ['-cid=a'], ['--cid=a']]) {
      expect(parseGoFlags(argv, isBool).flags.map((flag) => [flag.name, flag.value])).toEqual([['cid', 'a']]);
    }
  });

  it('reads whole-word names: -cid is not -c -i -d, and names are case-sensitive', () => {
    expect(parseGoFlags(['-cid', 'x', '-c', 'f', '-SD', '-sd', 'dir'], isBool).flags.map((flag) => flag.name))
      .toEqual(['cid', 'c', 'SD', 'sd']);
  });

  it('sets a boolean with -x or -x=value, never from the next word', () => {
    expect(parseGoFlags(['-SD'], isBool).flags[0]?.value).toBe('true');
    expect(parseGoFlags(['-SD=false'], isBool).flags[0]?.value).toBe('false');
    const parsed = parseGoFlags(['-SD', 'false', '-D'], isBool);
    expect(parsed.flags.map((flag) => flag.value)).toEqual(['true']);
    expect(parsed.positional).toEqual(['false', '-D']);
  });

  it('takes the next word as a value even when it starts with a dash', () => {
    expect(parseGoFlags(['-p', '-1'], isBool).flags[0]?.value).toBe('-1');
  });

  it('stops at -- and at the first word that is not a flag', () => {
    expect(parseGoFlags(['-D', '--', '-p', '1'], isBool)).toEqual({
      flags: [{ name: 'D', value: 'true', written: '-D' }], positional: ['-p', '1'],
    });
    expect(parseGoFlags(['version', '-D'], isBool).positional).toEqual(['version', '-D']);
    expect(parseGoFlags(['-', '-D'], isBool).positional).toEqual(['-', '-D']);
  });

  it('names an unknown flag, a missing argument and bad syntax', () => {
    expect(errorOf(() => parseGoFlags(['-nope'], isBool)).message).toBe('flag provided but not defined: -nope');
    expect(errorOf(() => parseGoFlags(['--nope=1'], isBool)).message).toBe('flag provided but not defined: -nope');
    expect(errorOf(() => parseGoFlags(['-cid'], isBool)).message).toBe('flag needs an argument: -cid');
    expect(errorOf(() => parseGoFlags(['---cid'], isBool)).message).toBe('bad flag syntax: ---cid');
    expect(errorOf(() => parseGoFlags(['-=x'], isBool)).message).toBe('bad flag syntax: -=x');
    expect(errorOf(() => parseGoFlags(['-nope'], isBool)).code).toBe('CONFIG_INVALID');
  });

  it('parses booleans as strconv.ParseBool does', () => {
    for (const text of ['1', 't', 'T', 'TRUE', 'true', 'True']) expect(parseGoBool(text)).toBe(true);
    for (const text of ['0', 'f', 'F', 'FALSE', 'false', 'False']) expect(parseGoBool(text)).toBe(false);
    for (const text of ['yes', 'on', 'tRUE', '']) expect(parseGoBool(text)).toBeUndefined();
  });

  it('parses integers as strconv.ParseInt(s, 0, 64) does', () => {
    const cases: readonly (readonly [string, number | undefined])[] = [
      ['42', 42], ['-1', -1], ['+7', 7], ['0x1F', 31], ['0o17', 15], ['017', 15], ['0b101', 5], ['1_000', 1000],
      ['0', 0], ['1KB', undefined], ['1.5', undefined], ['', undefined], ['1__0', undefined], ['9007199254740993', undefined],
    ];
    for (const [text, value] of cases) expect(parseGoInt(text), text).toBe(value);
  });
});

describe('Go durations', () => {
  it('reads what time.ParseDuration reads', () => {
    const cases: readonly (readonly [string, number])[] = [
      ['90s', 90_000], ['1h30m', 5_400_000], ['1.5h', 5_400_000], ['250ms', 250], ['0', 0], ['0s', 0],
      ['-2m', -120_000], ['1us', 0.001], ['1µs', 0.001], ['500ns', 0.0005], ['2h45m30.5s', 9_930_500], ['.5s', 500],
    ];
    for (const [text, ms] of cases) expect(parseGoDurationMs(text), text).toBeCloseTo(ms, 9);
  });

  it('refuses what Go refuses', () => {
    for (const text of ['', '10', '1d', 's', '1.5', 'h1', '1 s', '-', '.s']) {
      expect(parseGoDurationMs(text), text).toBeUndefined();
    }
  });

  it('prints durations as Go does', () => {
    expect(formatGoDuration(5_400_000)).toBe('1h30m0s');
    expect(formatGoDuration(250)).toBe('250ms');
    expect(formatGoDuration(0)).toBe('0s');
    expect(formatGoDuration(90_500)).toBe('1m30.5s');
  });
});

describe('size literals', () => {
  it('reads k as 1000 and kb as 1024, case-insensitively', () => {
    const cases: readonly (readonly [string, number | undefined])[] = [
      ['1024', 1024], ['1K', 1000], ['1KB', 1024], ['1kb', 1024], ['10MB', 10 * 1024 * 1024], ['1m', 1_000_000],
      ['2GB', 2 * 1024 ** 3], ['1G', 1e9], ['1TB', 1024 ** 4], ['1KiB', 1024], ['-1', -1], ['1.5MB', undefined],
      ['MB', undefined], ['1XB', undefined],
    ];
    for (const [text, bytes] of cases) expect(parseSizeBytes(text), text).toBe(bytes);
  });
});
