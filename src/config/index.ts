// The configuration layer's public face: load the options, print usage, diff for reload.

export { loadOptions, readVersion } from './load.js';
export { usageText, versionText, tlsHelpText } from './usage.js';
export { describeChange, diffOptions, isRuntimeChangeable, type OptionChange, type OptionsDiff } from './reload.js';
export { optionTable } from './option-table.js';
export { redactOptions } from './redact.js';
export type { OptionSpec, OptionGroup } from './option-spec.js';
export type {
  Action, ChannelLimits, ChannelLimitsOverride, ClusteringOptions, FileStoreOptions, LoggingOptions, LogLevel,
  NatsOptions, Options, RoutesOptions, StoreLimits, StreamingOptions,
} from './options.js';
export { StoreType } from './options.js';
