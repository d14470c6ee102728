// Reads a typed option value from flag text (Go's rules) or from a parsed conf value.

import { parseGoBool, parseGoInt } from './go-flags.js';
import { parseGoDurationMs } from './go-duration.js';
import { describeType, type ConfValue } from './conf-tree.js';
import type { OptionSpec, OptionValue } from './option-spec.js';
import { parseSizeBytes } from './size.js';

/** Converts flag text; returns an error message instead of throwing so the caller can place it. */
export function valueFromFlag(spec: OptionSpec, text: string): OptionValue | { error: string } {
  switch (spec.kind) {
    case 'string':
    case 'listen':
      return text;
    case 'bool': {
      const value = parseGoBool(text);
      return value ?? { error: `invalid boolean value "${text}"` };
    }
    case 'int': {
      const value = parseGoInt(text);
      return value ?? { error: `invalid integer value "${text}"` };
    }
    case 'duration': {
      const value = parseGoDurationMs(text);
      return value ?? { error: `invalid duration "${text}" (examples: 90s, 1h30m, 1.5h)` };
    }
    case 'size': {
      const value = parseSizeBytes(text);
      return value ?? { error: `invalid size "${text}" (examples: 1024, 1KB, 10MB)` };
    }
    case 'list':
      return splitList(text);
    case 'block':
      return { error: 'this option is only set in a configuration file' };
  }
}

/** Converts a conf value; returns an error message when its type does not fit the option. */
export function valueFromConf(spec: OptionSpec, node: ConfValue): OptionValue | { error: string } {
  // A secret's value stays out of the message, whatever its type.
  const given = spec.secret ? `a ${node.type}` : describeType(node);
  const mismatch = { error: `expected ${expectedText(spec)}, got ${given}` };
  switch (spec.kind) {
    case 'string':
      return node.type === 'string' ? node.value : mismatch;
    case 'listen':
      if (node.type === 'int') return String(node.value);
      return node.type === 'string' ? node.value : mismatch;
    case 'bool':
      return node.type === 'bool' ? node.value : mismatch;
    case 'int':
      return node.type === 'int' ? node.value : mismatch;
    case 'size':
      if (node.type === 'int') return node.value;
      if (node.type === 'string') return parseSizeBytes(node.value) ?? mismatch;
      return mismatch;
    case 'duration':
      // A bare `1m` lexes as the size 1000000: read what was written as a Go duration instead.
      if (node.type === 'int' && node.suffixed !== undefined) {
        return parseGoDurationMs(node.suffixed) ?? { error: `invalid duration "${node.suffixed}" (examples: 90s, 1h30m)` };
      }
      if (node.type === 'int' || node.type === 'float') return node.value * 1_000;
      if (node.type === 'string') {
        return parseGoDurationMs(node.value) ?? { error: `invalid duration "${node.value}" (examples: 90s, 1h30m)` };
      }
      return mismatch;
    case 'list':
      if (node.type === 'string') return splitList(node.value);
      if (node.type !== 'array') return mismatch;
      return listFromArray(node.items) ?? { error: 'expected an array of strings' };
    case 'block':
      return node.type === 'bool' ? node.value : true;
  }
}

function listFromArray(items: readonly ConfValue[]): string[] | undefined {
  const list: string[] = [];
  for (const item of items) {
    if (item.type !== 'string') return undefined;
    list.push(item.value);
  }
  return list;
}

function splitList(text: string): string[] {
  return text.split(',').map((part) => part.trim()).filter((part) => part !== '');
}

function expectedText(spec: OptionSpec): string {
  const names: Readonly<Record<OptionSpec['kind'], string>> = {
    string: 'a string', listen: 'host:port or a port', bool: 'a boolean', int: 'an integer',
    size: 'a size (1024, 10MB)', duration: 'a duration string ("90s")', list: 'an array of strings', block: 'a block',
  };
  return names[spec.kind];
}

/** True when `value` is what the option does when not set at all. */
export function isDefaultValue(spec: OptionSpec, value: OptionValue): boolean {
  if (Array.isArray(value) || Array.isArray(spec.defaultValue)) {
    return Array.isArray(value) && value.length === 0 && Array.isArray(spec.defaultValue) && spec.defaultValue.length === 0;
  }
  return value === spec.defaultValue;
}
