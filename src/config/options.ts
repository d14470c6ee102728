// The one validated, deep-frozen options object the rest of tstan reads. Built by loadOptions():
// defaults, then the configuration files, then the flags. Units are last in every name.

import { defaultNatsServerOptions, type NatsServerOptions } from '../transport/nats/options.js';
import { defaultTlsSettings } from '../transport/nats/tls-settings.js';
import type { RouteOptions } from '../transport/nats/routes.js';

export const StoreType = { memory: 'MEMORY', file: 'FILE', sql: 'SQL' } as const;
export type StoreType = (typeof StoreType)[keyof typeof StoreType];

/** What the command line asks for: run the server, or print something and exit. */
export type Action = 'run' | 'help' | 'help_tls' | 'version' | 'check';

export type LogLevel = 'info' | 'debug' | 'trace';

/** The embedded NATS server: the transport's own options, plus what only the config layer knows. */
export interface NatsOptions extends NatsServerOptions {
  /** `-c`: the NATS configuration file ('' when none). */
  readonly configFile: string;
}

/** Routes between the embedded NATS servers (`--cluster`, `--routes`, the `cluster {}` block of `-c`). */
export type RoutesOptions = RouteOptions;

/** Per-channel limits. Global values: 0 = unlimited. Per-channel values: 0 = inherit, negative = unlimited. */
export interface ChannelLimits {
  readonly maxSubscriptions: number;
  readonly maxMsgs: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  readonly maxInactivityMs: number;
}

export interface ChannelLimitsOverride {
  /** A channel name, or a pattern with `*` and `>` wildcards. */
  readonly channel: string;
  readonly limits: ChannelLimits;
}

export interface StoreLimits {
  /** 0 = unlimited. */
  readonly maxChannels: number;
  readonly global: ChannelLimits;
  /** In the order they were written. */
  readonly perChannel: readonly ChannelLimitsOverride[];
}

/**
 * The streaming layer as a client of an external NATS server (`-ns`): TLS (`-secure`,
 * `-tls_client_*`, the streaming `tls {}` block) and the credentials of the streaming conf.
 */
export interface NatsClientOptions {
  /** TLS towards the NATS server, verifying it against the system's CAs or `caFile`. */
  readonly secure: boolean;
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
  /** The name expected in the server's certificate (default: the host of the URL). */
  readonly serverName: string;
  /** Do not verify the server's certificate. */
  readonly skipVerify: boolean;
  /** `username`/`password`/`token` of the streaming conf; '' falls back to --user/--pass/--auth. */
  readonly user: string;
  readonly password: string;
  readonly token: string;
}

export interface StreamingOptions {
  readonly clusterId: string;
  readonly storeType: StoreType;
  /** Root directory of the FILE store. */
  readonly dir: string;
  /** `-ns`: an external NATS server URL; '' runs the embedded one. */
  readonly natsServerUrl: string;
  readonly natsClient: NatsClientOptions;
  readonly discoverPrefix: string;
  readonly replaceDurable: boolean;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly heartbeatFailCountMax: number;
  readonly limits: StoreLimits;
  /** `-sc`: the streaming configuration file ('' when none). */
  readonly configFile: string;
  /**
   * Encryption at rest (`-encrypt`; also on when a key is given, as in the reference). Message
   * payloads in the store and, clustered, Raft log entries are sealed.
   */
  readonly encrypt: boolean;
  /** `-encryption_cipher`; '' picks the reference's default for the platform (AES on x86). */
  readonly encryptionCipher: EncryptionCipher;
  /**
   * The key: NATS_STREAMING_ENCRYPTION_KEY, which takes precedence, or `-encryption_key`. A
   * secret: redacted wherever options are shown (redact.ts, reload.ts).
   */
  readonly encryptionKey: string;
}

export type EncryptionCipher = '' | 'AES' | 'CHACHA';

export interface FileStoreOptions {
  readonly compactEnabled: boolean;
  readonly compactFragmentationPercent: number;
  readonly compactIntervalSeconds: number;
  readonly compactMinFileBytes: number;
  readonly bufferBytes: number;
  readonly crcEnabled: boolean;
  readonly crcPolynomial: number;
  readonly syncOnFlush: boolean;
  readonly sliceMaxMsgs: number;
  readonly sliceMaxBytes: number;
  readonly sliceMaxAgeMs: number;
  readonly sliceArchiveScript: string;
  readonly fileDescriptorsMax: number;
  readonly parallelRecovery: number;
  readonly truncateBadEof: boolean;
  readonly readBufferBytes: number;
  /** 0 or less disables the periodic flush and sync. */
  readonly autoSyncIntervalMs: number;
}

export interface ClusteringOptions {
  readonly clustered: boolean;
  /** '' when not given: the clustering layer then uses a stored or generated one. */
  readonly nodeId: string;
  readonly bootstrap: boolean;
  /** Peer node IDs, this node's own ID removed. */
  readonly peers: readonly string[];
  /** '' means `./<cluster id>/<node id>` is derived at start-up. */
  readonly logPath: string;
  readonly logCacheSize: number;
  readonly logSnapshots: number;
  readonly trailingLogs: number;
  readonly sync: boolean;
  readonly raftLogging: boolean;
  readonly proceedOnRestoreFailure: boolean;
  readonly allowAddRemoveNode: boolean;
  readonly heartbeatTimeoutMs: number;
  readonly electionTimeoutMs: number;
  readonly leaseTimeoutMs: number;
  readonly commitTimeoutMs: number;
}

export const LogFormatChoice = { auto: 'auto', json: 'json', text: 'text' } as const;
export type LogFormatChoice = (typeof LogFormatChoice)[keyof typeof LogFormatChoice];

export interface LoggingOptions {
  /** Derived: trace if -V or -SV, debug if -D or -SD, else info. */
  readonly level: LogLevel;
  /** `-l`: log to this file instead of stdout ('' = stdout). */
  readonly file: string;
  readonly timestamps: boolean;
  /** `--log_format`: `auto` is text on a terminal and JSON otherwise (always JSON into a file). */
  readonly format: LogFormatChoice;
  readonly debug: boolean;
  readonly trace: boolean;
  readonly stanDebug: boolean;
  readonly stanTrace: boolean;
}

export interface Options {
  readonly action: Action;
  /** tstan's version, from package.json. */
  readonly version: string;
  readonly nats: NatsOptions;
  readonly routes: RoutesOptions;
  readonly streaming: StreamingOptions;
  readonly fileStore: FileStoreOptions;
  readonly clustering: ClusteringOptions;
  readonly logging: LoggingOptions;
}

type DeepMutable<T> = T extends readonly (infer Item)[]
  ? DeepMutable<Item>[]
  : T extends object
    ? { -readonly [Key in keyof T]: DeepMutable<T[Key]> }
    : T;

/** Options while they are being built; frozen into Options at the end. */
export type OptionsDraft = DeepMutable<Options>;

export const defaultChannelLimits: ChannelLimits = Object.freeze({
  maxSubscriptions: 1000,
  maxMsgs: 1_000_000,
  maxBytes: 1_000_000 * 1024,
  maxAgeMs: 0,
  maxInactivityMs: 0,
});

/** The settings of a `tls {}` block (or the --tls* flags) before any of its keys. */
export function newTlsDraft(): NonNullable<OptionsDraft['nats']['tls']> {
  return { ...defaultTlsSettings, cipherSuites: [], curvePreferences: [] };
}

/** A fresh draft holding the reference server's defaults (docs/protocol.md §3.1, §4). */
export function defaultOptionsDraft(version: string): OptionsDraft {
  return {
    action: 'run',
    version,
    nats: { ...defaultNatsServerOptions, users: [], tls: null, configFile: '' },
    routes: {
      listenHost: '', listenPort: 0, name: '', routes: [], advertise: '', noAdvertise: false, connectRetries: 0,
      tls: null, user: '', password: '', authTimeoutMs: 2_000,
    },
    streaming: {
      clusterId: 'test-cluster',
      storeType: StoreType.memory,
      dir: '',
      natsServerUrl: '',
      natsClient: {
        secure: false, certFile: '', keyFile: '', caFile: '', serverName: '', skipVerify: false, user: '', password: '', token: '',
      },
      discoverPrefix: '_STAN.discover',
      replaceDurable: false,
      heartbeatIntervalMs: 30_000,
      heartbeatTimeoutMs: 10_000,
      heartbeatFailCountMax: 10,
      limits: { maxChannels: 100, global: { ...defaultChannelLimits }, perChannel: [] },
      configFile: '',
      encrypt: false,
      encryptionCipher: '',
      encryptionKey: '',
    },
    fileStore: {
      compactEnabled: true,
      compactFragmentationPercent: 50,
      compactIntervalSeconds: 300,
      compactMinFileBytes: 1024 * 1024,
      bufferBytes: 2 * 1024 * 1024,
      crcEnabled: true,
      crcPolynomial: 0xedb88320,
      syncOnFlush: true,
      sliceMaxMsgs: 0,
      sliceMaxBytes: 64 * 1024 * 1024,
      sliceMaxAgeMs: 0,
      sliceArchiveScript: '',
      fileDescriptorsMax: 0,
      parallelRecovery: 1,
      truncateBadEof: false,
      readBufferBytes: 2 * 1024 * 1024,
      autoSyncIntervalMs: 60_000,
    },
    clustering: {
      clustered: false,
      nodeId: '',
      bootstrap: false,
      peers: [],
      logPath: '',
      logCacheSize: 512,
      logSnapshots: 2,
      trailingLogs: 10_240,
      // Durable by default, unlike the reference: see clustering.sync in table-streaming.ts.
      sync: true,
      raftLogging: false,
      proceedOnRestoreFailure: false,
      allowAddRemoveNode: false,
      heartbeatTimeoutMs: 1_000,
      electionTimeoutMs: 1_000,
      leaseTimeoutMs: 1_000,
      commitTimeoutMs: 100,
    },
    logging: {
      level: 'info', file: '', timestamps: true, format: 'auto', debug: false, trace: false, stanDebug: false, stanTrace: false,
    },
  };
}

/** Freezes every object and array reachable from `value`. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
