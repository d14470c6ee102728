// Maps the validated configuration onto the options each component takes, so components depend
// on their own option types and not on the configuration layer.
import type { Options } from '../config/options.js';
import type { StanServerOptions } from '../server/options.js';
import type { NatsServerOptions } from '../transport/nats/options.js';
import { buildStoreLimits, type ChannelLimits, type StoreLimits } from '../store/limits.js';
import type { ExternalNatsOptions } from '../transport/nats/external-connection.js';
import type { FileStoreOptions as FileStoreSettings } from '../store/file/options.js';
import type { ClusterSettings } from '../cluster/options.js';

export function natsServerOptionsOf(options: Options): NatsServerOptions {
  const { configFile: _configFile, ...nats } = options.nats;
  return nats;
}

export function stanServerOptionsOf(options: Options): Partial<StanServerOptions> {
  const streaming = options.streaming;
  return {
    clusterId: streaming.clusterId,
    discoverPrefix: streaming.discoverPrefix,
    hbIntervalMs: streaming.heartbeatIntervalMs,
    hbTimeoutMs: streaming.heartbeatTimeoutMs,
    hbFailCount: streaming.heartbeatFailCountMax,
    replaceDurable: streaming.replaceDurable,
  };
}

function channelLimitsOf(limits: Options['streaming']['limits']['global']): ChannelLimits {
  return {
    maxSubscriptions: limits.maxSubscriptions,
    maxMsgs: limits.maxMsgs,
    maxBytes: limits.maxBytes,
    maxAgeMs: limits.maxAgeMs,
    maxInactivityMs: limits.maxInactivityMs,
  };
}

/** The store limits, validated with the reference's rules (throws ConfigError). */
export function storeLimitsOf(options: Options): StoreLimits {
  const limits = options.streaming.limits;
  const perChannel = new Map<string, ChannelLimits>();
  for (const entry of limits.perChannel) perChannel.set(entry.channel, channelLimitsOf(entry.limits));
  return buildStoreLimits({ maxChannels: limits.maxChannels, global: channelLimitsOf(limits.global), perChannel });
}

/** `-ns` takes one URL or several separated by commas; the NATS credentials flags apply to it. */
export function externalNatsOptionsOf(options: Options): ExternalNatsOptions {
  const servers = options.streaming.natsServerUrl
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '');
  const nats = options.nats;
  return {
    servers,
    ...(nats.user ? { user: nats.user, password: nats.password } : {}),
    ...(nats.authToken ? { token: nats.authToken } : {}),
  };
}

/** The `file_*` options onto the FILE store's own option names (its message cache keeps its default). */
export function fileStoreOptionsOf(options: Options): Omit<FileStoreSettings, 'cacheBytesMax'> {
  const file = options.fileStore;
  return {
    compactEnabled: file.compactEnabled,
    compactFragPercent: file.compactFragmentationPercent,
    compactIntervalSec: file.compactIntervalSeconds,
    compactMinSizeBytes: file.compactMinFileBytes,
    bufferSizeBytes: file.bufferBytes,
    crc: file.crcEnabled,
    crcPoly: file.crcPolynomial,
    sync: file.syncOnFlush,
    sliceMaxMsgs: file.sliceMaxMsgs,
    sliceMaxBytes: file.sliceMaxBytes,
    sliceMaxAgeMs: file.sliceMaxAgeMs,
    sliceArchiveScript: file.sliceArchiveScript,
    fdsLimit: file.fileDescriptorsMax,
    parallelRecovery: file.parallelRecovery,
    truncateBadEof: file.truncateBadEof,
  };
}

/** The clustering options, with the store directory the default Raft log path is under. */
export function clusterSettingsOf(options: Options): ClusterSettings & { readonly dir: string } {
  const c = options.clustering;
  return {
    nodeId: c.nodeId,
    peers: c.peers,
    bootstrap: c.bootstrap,
    logPath: c.logPath,
    logCacheSize: c.logCacheSize,
    logSnapshots: c.logSnapshots,
    trailingLogs: c.trailingLogs,
    sync: c.sync,
    raftLogging: c.raftLogging,
    proceedOnRestoreFailure: c.proceedOnRestoreFailure,
    allowAddRemoveNode: c.allowAddRemoveNode,
    heartbeatTimeoutMs: c.heartbeatTimeoutMs,
    electionTimeoutMs: c.electionTimeoutMs,
    leaseTimeoutMs: c.leaseTimeoutMs,
    commitTimeoutMs: c.commitTimeoutMs,
    dir: options.streaming.dir,
  };
}
