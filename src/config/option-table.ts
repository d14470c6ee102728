// The whole option table, in the order of the reference server's usage text, and lookups by
// flag name and by conf key.

import type { ConfSection, OptionSpec } from './option-spec.js';
import { fileStoreOptions } from './table-file-store.js';
import {
  authorizationOptions, commonOptions, embeddedNatsOptions, loggingOptions, natsClusteringOptions, natsTlsOptions,
  otherNatsOptions,
} from './table-nats.js';
import {
  clusteringOptions, sqlOptions, streamingLoggingOptions, streamingOptions, streamingTlsOptions,
} from './table-streaming.js';

export const optionTable: readonly OptionSpec[] = Object.freeze([
  ...streamingOptions,
  ...clusteringOptions,
  ...fileStoreOptions,
  ...sqlOptions,
  ...streamingTlsOptions,
  ...streamingLoggingOptions,
  ...embeddedNatsOptions,
  ...loggingOptions,
  ...authorizationOptions,
  ...natsTlsOptions,
  ...natsClusteringOptions,
  ...otherNatsOptions,
  ...commonOptions,
]);

export interface OptionIndex {
  readonly byFlag: ReadonlyMap<string, OptionSpec>;
  readonly byConfKey: ReadonlyMap<ConfSection, ReadonlyMap<string, OptionSpec>>;
}

/** Builds the lookups, refusing a flag name or conf key claimed twice. */
export function indexOptions(table: readonly OptionSpec[]): OptionIndex {
  const byFlag = new Map<string, OptionSpec>();
  const byConfKey = new Map<ConfSection, Map<string, OptionSpec>>();
  for (const spec of table) {
    for (const flag of spec.flags) {
      const other = byFlag.get(flag);
      if (other !== undefined) throw new Error(`flag -${flag} is claimed by ${other.id} and ${spec.id}`);
      byFlag.set(flag, spec);
    }
    for (const spelling of spec.conf) {
      const section = byConfKey.get(spelling.section) ?? new Map<string, OptionSpec>();
      byConfKey.set(spelling.section, section);
      for (const key of spelling.keys) {
        const other = section.get(key);
        if (other !== undefined) throw new Error(`key ${spelling.section}.${key} is claimed by ${other.id} and ${spec.id}`);
        section.set(key, spec);
      }
    }
  }
  return { byFlag, byConfKey };
}

export const optionIndex: OptionIndex = indexOptions(optionTable);
