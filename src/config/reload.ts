// What a SIGHUP reload may change: the new options are compared with the running ones; limits
// and log levels apply at run time, everything else needs a restart and is reported as such.

import type { Options } from './options.js';
import { isSecretPath } from './redact.js';

export interface OptionChange {
  /** Dotted path in Options, e.g. `streaming.limits.global.maxMsgs`. */
  readonly path: string;
  readonly before: unknown;
  readonly after: unknown;
}

export interface OptionsDiff {
  /** Changes the running server can take now. */
  readonly applicable: readonly OptionChange[];
  /** Changes that need a restart; the server keeps the old values and says so. */
  readonly needsRestart: readonly OptionChange[];
}

const runtimePrefixes = [
  'streaming.limits.',
  'logging.level',
  'logging.debug',
  'logging.trace',
  'logging.stanDebug',
  'logging.stanTrace',
];

/** Paths whose changes the server applies at run time. */
export function isRuntimeChangeable(path: string): boolean {
  return runtimePrefixes.some((prefix) => path === prefix || path.startsWith(prefix));
}

export function diffOptions(before: Options, after: Options): OptionsDiff {
  const changes: OptionChange[] = [];
  collectChanges('', before, after, changes);
  const relevant = changes.filter((change) => change.path !== 'action' && change.path !== 'version');
  return {
    applicable: relevant.filter((change) => isRuntimeChangeable(change.path)),
    needsRestart: relevant.filter((change) => !isRuntimeChangeable(change.path)),
  };
}

function collectChanges(path: string, before: unknown, after: unknown, out: OptionChange[]): void {
  const bothObjects = isPlainObject(before) && isPlainObject(after);
  if (!bothObjects) {
    if (JSON.stringify(before) !== JSON.stringify(after)) out.push({ path, before, after });
    return;
  }
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const key of keys) {
    collectChanges(path === '' ? key : `${path}.${key}`, before[key], after[key], out);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** One line for the log: `streaming.limits.global.maxMsgs: 10 -> 20`; a secret without its values. */
export function describeChange(change: OptionChange): string {
  if (isSecretPath(change.path)) return `${change.path}: changed (values not shown: a secret)`;
  return `${change.path}: ${JSON.stringify(change.before)} -> ${JSON.stringify(change.after)}`;
}
