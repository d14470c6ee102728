// The values a NATS configuration file parses into, each with where it was written, so that every
// later error (unknown key, wrong type, unsupported option) can name the file, line and column.

export interface ConfPosition {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export type ConfValue =
  | { readonly type: 'string'; readonly value: string; readonly position: ConfPosition }
  | {
      readonly type: 'int';
      readonly value: number;
      readonly position: ConfPosition;
      /** The token as written when it carried a size suffix (`1m`), so a duration can reread it. */
      readonly suffixed?: string;
    }
  | { readonly type: 'float'; readonly value: number; readonly position: ConfPosition }
  | { readonly type: 'bool'; readonly value: boolean; readonly position: ConfPosition }
  | { readonly type: 'array'; readonly items: readonly ConfValue[]; readonly position: ConfPosition }
  | { readonly type: 'map'; readonly entries: ConfMap; readonly position: ConfPosition };

export interface ConfEntry {
  /** The key as written (lookups are case-insensitive, as in the reference). */
  readonly key: string;
  readonly keyPosition: ConfPosition;
  readonly value: ConfValue;
  /** True when a `$variable` reference read this entry: it is then a definition, not an option. */
  usedAsVariable: boolean;
}

/** Entries by key as written; a key given twice keeps its last value, as nats-server does. */
export type ConfMap = Map<string, ConfEntry>;

export function formatPosition(position: ConfPosition): string {
  return `${position.file}:${position.line}:${position.column}`;
}

/** Finds an entry by any of `aliases`, ignoring case; the last one written wins. */
export function findEntry(map: ConfMap, aliases: readonly string[]): ConfEntry | undefined {
  let found: ConfEntry | undefined;
  for (const entry of map.values()) {
    if (aliases.includes(entry.key.toLowerCase())) found = entry;
  }
  return found;
}

export function describeType(value: ConfValue): string {
  switch (value.type) {
    case 'string':
      return `string "${value.value}"`;
    case 'int':
    case 'float':
      return `number ${value.value}`;
    case 'bool':
      return `boolean ${value.value}`;
    case 'array':
      return 'an array';
    case 'map':
      return 'a map';
  }
}
