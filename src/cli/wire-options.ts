// Maps the validated configuration onto the options each component takes, so components depend
// on their own option types and not on the configuration layer.
import type { Options } from '../config/options.js';
import type { StanServerOptions } from '../server/options.js';
import type { NatsServerOptions } from '../transport/nats/options.js';
import { buildStoreLimits, type ChannelLimits, type StoreLimits } from '../store/limits.js';
import type { ExternalNatsOptions } from '../transport/nats/external-connection.js';
import type { FileStoreOptions as FileStoreSettings } from '../store/file/options.js';
import type { ClusterSettings } from '../cluster/options.js';
import { masterKeyOf, sodiumChaCha, type CipherName, type EncryptionSettings } from '../store/crypto/payload-cipher.js';

/**
 * Encryption at rest, or undefined when off. The cipher, when -encryption_cipher is not given, is
 * the one that costs least here, as the reference picks the one that costs least in Go:
 * ChaCha20-Poly1305 when libsodium loaded (one call per payload, several times cheaper than
 * node:crypto's AES-GCM, which needs a cipher object per payload); otherwise the reference's
 * choice, AES where the CPU accelerates it (x86) and ChaCha20 elsewhere. Each sealed payload
 * names its cipher and both servers open both, so the choice never decides who can read a store.
 * Only the key's SHA-256 leaves this function.
 */
export function encryptionOf(options: Options, arch: string = process.arch, nativeChaCha?: boolean): EncryptionSettings | undefined {
  const streaming = options.streaming;
  if (!streaming.encrypt) return undefined;
  const cheapChaCha = nativeChaCha ?? sodiumChaCha() !== undefined;
  const fallback: CipherName = cheapChaCha || !(arch === 'x64' || arch === 'ia32') ? 'CHACHA' : 'AES';
  return { cipher: streaming.encryptionCipher === '' ? fallback : streaming.encryptionCipher, masterKey: masterKeyOf(streaming.encryptionKey) };
}

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

/**
 * `-ns` takes one URL or several separated by commas. The streaming conf's username, password
 * and token apply to it, else the NATS credentials flags; `-secure` and the `-tls_client_*`
 * options (any of them, as in the reference) make it TLS.
 */
export function externalNatsOptionsOf(options: Options): ExternalNatsOptions {
  const servers = options.streaming.natsServerUrl
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '');
  const nats = options.nats;
  const client = options.streaming.natsClient;
  const user = client.user || nats.user;
  const password = client.user ? client.password : nats.password;
  const token = client.token || nats.authToken;
  const wantsTls = client.secure || client.certFile !== '' || client.caFile !== '' || client.serverName !== '' || client.skipVerify;
  return {
    servers,
    ...(user ? { user, password } : {}),
    ...(token ? { token } : {}),
    ...(wantsTls
      ? {
          tls: {
            ...(client.certFile ? { certFile: client.certFile, keyFile: client.keyFile } : {}),
            ...(client.caFile ? { caFile: client.caFile } : {}),
            ...(client.serverName ? { servername: client.serverName } : {}),
            ...(client.skipVerify ? { rejectUnauthorized: false } : {}),
          },
        }
      : {}),
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
    ...(options.streaming.encrypt ? { encryption: encryptionOf(options)! } : {}),
  };
}
