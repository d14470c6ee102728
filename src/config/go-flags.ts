// Go's `flag` package syntax, which every script written for the reference server relies on:
// `-x` and `--x` are one flag; `-x v` and `-x=v`; booleans only as `-x` or `-x=false` (a following
// word is never their value); names are whole words (`-cid` is not `-c -i -d`); parsing stops at
// `--` or at the first word that is not a flag.

import { ConfigError } from '../util/errors.js';

export interface FlagOccurrence {
  /** The flag name without dashes, as registered. */
  readonly name: string;
  /** The value text; a boolean flag written without `=` has the value "true". */
  readonly value: string;
  /** The argument as written, for error messages. */
  readonly written: string;
}

export interface ParsedCommandLine {
  readonly flags: readonly FlagOccurrence[];
  /** Words after the flags (Go stops at the first non-flag word and after `--`). */
  readonly positional: readonly string[];
}

/** Splits `argv` (the words after the program name) by Go's rules; `isBool(name)` is undefined for unknown names. */
export function parseGoFlags(
  argv: readonly string[],
  isBool: (name: string) => boolean | undefined,
): ParsedCommandLine {
  const flags: FlagOccurrence[] = [];
  let index = 0;
  while (index < argv.length) {
    const word = argv[index] ?? '';
    if (word.length < 2 || !word.startsWith('-')) break;
    index += 1;
    if (word === '--') return { flags, positional: argv.slice(index) };
    const dashes = word.startsWith('--') ? 2 : 1;
    const body = word.slice(dashes);
    if (body === '' || body.startsWith('-') || body.startsWith('=')) {
      throw new ConfigError(`bad flag syntax: ${word}`);
    }
    const equals = body.indexOf('=');
    const name = equals < 0 ? body : body.slice(0, equals);
    const bool = isBool(name);
    if (bool === undefined) throw new ConfigError(`flag provided but not defined: -${name}`);
    if (equals >= 0) {
      flags.push({ name, value: body.slice(equals + 1), written: word });
    } else if (bool) {
      flags.push({ name, value: 'true', written: word });
    } else {
      if (index >= argv.length) throw new ConfigError(`flag needs an argument: -${name}`);
      const value = argv[index] ?? '';
      index += 1;
      flags.push({ name, value, written: `${word} ${value}` });
    }
  }
  return { flags, positional: argv.slice(index) };
}

/** Go's strconv.ParseBool. */
export function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

/** Go's strconv.ParseInt(text, 0, 64) limited to safe integers: `0x1F`, `0o17`, `017`, `0b101`, `1_000`. */
export function parseGoInt(text: string): number | undefined {
  const match = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(text);
  if (match === null) return undefined;
  const sign = match[1] === '-' ? -1 : 1;
  const digits = match[2] ?? '';
  if (/__|_$/.test(digits)) return undefined;
  const clean = digits.replaceAll('_', '');
  let value: number;
  if (/^0[xXoObB]/.test(clean)) {
    value = Number(clean.toLowerCase());
  } else if (clean.length > 1 && clean.startsWith('0')) {
    value = Number.parseInt(clean, 8);
  } else {
    value = Number(clean);
  }
  value *= sign;
  return Number.isSafeInteger(value) ? value : undefined;
}
