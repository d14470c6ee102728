// The shape of one entry of the declarative option table: every spelling (flags and conf keys),
// its type, default, usage line, usage group, and whether tstan supports it yet.

import type { OptionsDraft } from './options.js';

export const OptionGroup = {
  streaming: 'Streaming Server Options',
  clustering: 'Streaming Server Clustering Options',
  fileStore: 'Streaming Server File Store Options',
  sqlStore: 'Streaming Server SQL Store Options',
  streamingTls: 'Streaming Server TLS Options',
  streamingLogging: 'Streaming Server Logging Options',
  embeddedNats: 'Embedded NATS Server Options',
  logging: 'Logging Options',
  authorization: 'Authorization Options',
  natsTls: 'TLS Options',
  natsClustering: 'NATS Clustering Options',
  natsOther: 'Other NATS Server Options',
  common: 'Common Options',
} as const;
export type OptionGroup = (typeof OptionGroup)[keyof typeof OptionGroup];

/** How a value is read: flags by Go's rules, conf values by their parsed type. */
export type ValueKind = 'string' | 'bool' | 'int' | 'duration' | 'size' | 'list' | 'listen' | 'block';

/** A typed value: durations in ms, sizes in bytes, lists as arrays, `listen` as "host:port" text. */
export type OptionValue = string | boolean | number | readonly string[];

/** Where in a configuration file a key lives. */
export type ConfSection =
  | 'nats'
  | 'nats.authorization'
  | 'nats.tls'
  | 'nats.cluster'
  | 'nats.cluster.tls'
  | 'nats.cluster.authorization'
  | 'streaming'
  | 'streaming.store_limits'
  | 'streaming.file'
  | 'streaming.cluster'
  | 'streaming.sql'
  | 'streaming.tls';

export interface ConfSpelling {
  readonly section: ConfSection;
  /** Lower-case key aliases. */
  readonly keys: readonly string[];
}

export type OptionStatus =
  | { readonly supported: true }
  | { readonly supported: false; readonly reason: string };

/** A default of ours that is not the reference server's, and why (shown by -h and the docs). */
export interface ReferenceDefault {
  readonly text: string;
  readonly why: string;
}

export interface OptionSpec {
  /** Stable identifier, used by docs and tests. */
  readonly id: string;
  readonly group: OptionGroup;
  /** Flag names without dashes; `-x` and `--x` both work for each. */
  readonly flags: readonly string[];
  readonly conf: readonly ConfSpelling[];
  readonly kind: ValueKind;
  /** Shown in the usage line (`<string>`, `<duration>`...). */
  readonly argName: string;
  readonly defaultValue: OptionValue;
  readonly defaultText: string;
  readonly usage: string;
  readonly status: OptionStatus;
  /** Accepted by the reference server but absent from its usage text. */
  readonly hidden: boolean;
  /** Applied after the other flags, as the reference does for `-SDV`/`-DV`. */
  readonly late: boolean;
  /** Not an option of the reference server: tstan's own (e.g. `--log_format`). */
  readonly tstanOnly: boolean;
  /** Set when our default differs from the reference server's. */
  readonly referenceDefault: ReferenceDefault | undefined;
  /** A password, token or URL that may carry one: its value never appears in a message. */
  readonly secret: boolean;
  /**
   * Parsed and validated, but this build refuses to start with it set (src/cli/node.ts
   * checkStartable says so for `tstan -t` and start-up alike); the reason is shown in the docs.
   */
  readonly refusedAtStartup: string | undefined;
  /** Writes a value into the draft; may throw Error with a message that the loader places. */
  readonly apply: (draft: OptionsDraft, value: OptionValue) => void;
}

export interface OptionInit {
  readonly id: string;
  readonly group: OptionGroup;
  readonly flags?: readonly string[];
  readonly conf?: readonly ConfSpelling[];
  readonly kind: ValueKind;
  readonly argName?: string;
  readonly defaultValue: OptionValue;
  readonly defaultText?: string;
  readonly usage: string;
  /** A reason makes the option not-yet supported. */
  readonly notYet?: string;
  readonly hidden?: boolean;
  readonly late?: boolean;
  readonly tstanOnly?: boolean;
  readonly referenceDefault?: ReferenceDefault;
  readonly secret?: boolean;
  readonly refusedAtStartup?: string;
  readonly apply?: (draft: OptionsDraft, value: OptionValue) => void;
}

const argNames: Readonly<Record<ValueKind, string>> = {
  string: '<string>',
  bool: '<bool>',
  int: '<int>',
  duration: '<duration>',
  size: '<size>',
  list: '<string, ...>',
  listen: '<host:port>',
  block: '{ ... }',
};

export function option(init: OptionInit): OptionSpec {
  const status: OptionStatus =
    init.notYet === undefined ? { supported: true } : { supported: false, reason: init.notYet };
  if (status.supported && init.apply === undefined) {
    throw new Error(`option ${init.id} is supported but has no apply`);
  }
  return Object.freeze({
    id: init.id,
    group: init.group,
    flags: Object.freeze([...(init.flags ?? [])]),
    conf: Object.freeze([...(init.conf ?? [])]),
    kind: init.kind,
    argName: init.argName ?? argNames[init.kind],
    defaultValue: init.defaultValue,
    defaultText: init.defaultText ?? defaultTextOf(init.defaultValue),
    usage: init.usage,
    status,
    hidden: init.hidden ?? false,
    late: init.late ?? false,
    tstanOnly: init.tstanOnly ?? false,
    referenceDefault: init.referenceDefault,
    secret: init.secret ?? false,
    refusedAtStartup: init.refusedAtStartup,
    apply: init.apply ?? (() => undefined),
  });
}

function defaultTextOf(value: OptionValue): string {
  if (Array.isArray(value)) return value.length === 0 ? '' : value.join(',');
  return String(value);
}

export function conf(section: ConfSection, ...keys: string[]): ConfSpelling {
  return { section, keys };
}

export function asString(value: OptionValue): string {
  if (typeof value !== 'string') throw new Error(`expected a string, got ${String(value)}`);
  return value;
}

export function asNumber(value: OptionValue): number {
  if (typeof value !== 'number') throw new Error(`expected a number, got ${String(value)}`);
  return value;
}

export function asBool(value: OptionValue): boolean {
  if (typeof value !== 'boolean') throw new Error(`expected a boolean, got ${String(value)}`);
  return value;
}

export function asList(value: OptionValue): string[] {
  if (!Array.isArray(value)) throw new Error(`expected a list, got ${String(value)}`);
  return [...(value as readonly string[])];
}

/**
 * Splits `[nats://][user:pass@]host[:port]`, `host:port`, `:port` or a bare port (port may be -1).
 * An absent host comes back as ''.
 */
export function parseHostPort(text: string, defaultPort: number): { host: string; port: number; user: string } {
  const trimmed = text.trim();
  if (/^-?\d+$/.test(trimmed)) return { host: '', port: checkPort(trimmed), user: '' };
  const match = /^(?:([a-z][a-z0-9+.-]*):\/\/)?(?:([^@/]*)@)?(\[[^\]]*\]|[^:/]*)(?::(-?\d+))?\/?$/i.exec(trimmed);
  if (match === null) throw new Error(`"${text}" is not a host:port or URL`);
  const port = match[4] === undefined ? defaultPort : checkPort(match[4]);
  const host = (match[3] ?? '').replace(/^\[|\]$/g, '');
  return { host, port, user: match[2] ?? '' };
}

function checkPort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < -1 || port > 65_535) throw new Error(`port ${text} is out of range`);
  return port;
}
