// Checks the finished draft as a whole: what no single option can check on its own (store type
// against dir, clustering against store type, per-channel limits against max_channels ...).

import { ConfigError } from '../util/errors.js';
import { parseHostPort } from './option-spec.js';
import { StoreType, type ChannelLimits, type OptionsDraft } from './options.js';
import { reservedNodeIds } from '../transport/raft/node-id.js';
import { unknownCipherSuite, unknownCurve } from '../transport/nats/tls-settings.js';
import { redactUrlCredentials } from '../transport/nats/url-credentials.js';

const nodeIdPattern = /^[A-Za-z0-9_-]+$/;

/** A channel name or, in limits only, a pattern with whole-token `*` and a final `>`. */
export function isChannelPatternValid(name: string): boolean {
  if (name === '' || /[\s/]/.test(name)) return false;
  const tokens = name.split('.');
  return tokens.every((token, index) => {
    if (token === '') return false;
    if (token === '>') return index === tokens.length - 1;
    return token === '*' || !/[*>]/.test(token);
  });
}

/** Normalises derived fields and throws ConfigError on the first inconsistency. */
export function validateDraft(draft: OptionsDraft): void {
  validateStreaming(draft);
  validateLimits(draft);
  validateClustering(draft);
  validateNats(draft);
  validateSecurity(draft);
  validateFileStore(draft);
  const logging = draft.logging;
  logging.level = logging.trace || logging.stanTrace ? 'trace' : logging.debug || logging.stanDebug ? 'debug' : 'info';
}

function fail(message: string): never {
  throw new ConfigError(message);
}

function validateStreaming(draft: OptionsDraft): void {
  const streaming = draft.streaming;
  if (!isChannelPatternValid(streaming.clusterId) || /[*>]/.test(streaming.clusterId)) {
    fail(`invalid cluster ID "${streaming.clusterId}": it becomes part of subjects, so no spaces, wildcards or empty tokens`);
  }
  if (!isChannelPatternValid(streaming.discoverPrefix) || /[*>]/.test(streaming.discoverPrefix)) {
    fail(`invalid discover_prefix "${streaming.discoverPrefix}"`);
  }
  if (streaming.storeType === StoreType.sql) {
    fail('tstan does not support the SQL store yet: use -st FILE or -st MEMORY');
  }
  if (streaming.storeType === StoreType.file && streaming.dir === '') {
    fail('the FILE store needs a root directory: set -dir (or dir in the streaming configuration)');
  }
  for (const url of streaming.natsServerUrl.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    // NATS clients default to port 4222, so only the host is required here.
    checkUrl(url, '-ns (nats_server)', 4222);
  }
  if (streaming.encrypt && streaming.encryptionKey === '') {
    // The reference's "encryption key required", saying where a key can come from.
    fail('encryption key required: set NATS_STREAMING_ENCRYPTION_KEY (preferred) or -encryption_key');
  }
  if (streaming.heartbeatIntervalMs <= 0) fail('-hbi (hb_interval) must be greater than 0');
  if (streaming.heartbeatTimeoutMs <= 0) fail('-hbt (hb_timeout) must be greater than 0');
  if (streaming.heartbeatFailCountMax < 1) fail('-hbf (hb_fail_count) must be at least 1');
}

function validateLimits(draft: OptionsDraft): void {
  const limits = draft.streaming.limits;
  if (limits.maxChannels < 0) fail('max_channels cannot be negative (0 means unlimited)');
  checkGlobal(limits.global);
  const literal = limits.perChannel.filter((item) => !/[*>]/.test(item.channel)).length;
  if (limits.maxChannels > 0 && literal > limits.maxChannels) {
    fail(`store_limits lists ${literal} channels, more than max_channels (${limits.maxChannels})`);
  }
}

function checkGlobal(global: ChannelLimits): void {
  const names: Readonly<Record<keyof ChannelLimits, string>> = {
    maxSubscriptions: 'max_subs', maxMsgs: 'max_msgs', maxBytes: 'max_bytes', maxAgeMs: 'max_age',
    maxInactivityMs: 'max_inactivity',
  };
  for (const field of Object.keys(names) as (keyof ChannelLimits)[]) {
    if (global[field] < 0) fail(`${names[field]} cannot be negative (0 means unlimited)`);
  }
}

function checkNodeId(id: string, what: string): void {
  if (!nodeIdPattern.test(id) || id.length > 64) fail(`invalid ${what} "${id}": use up to 64 letters, digits, "-" and "_"`);
  if (reservedNodeIds.includes(id)) fail(`invalid ${what} "${id}": ${reservedNodeIds.map((r) => `"${r}"`).join(', ')} name the cluster's own subjects`);
}

function validateClustering(draft: OptionsDraft): void {
  const clustering = draft.clustering;
  const own = clustering.nodeId;
  clustering.peers = [...new Set(clustering.peers)].filter((peer) => peer !== own);
  if (own !== '') checkNodeId(own, 'cluster node ID');
  for (const peer of clustering.peers) checkNodeId(peer, 'peer node ID');
  if (!clustering.clustered) return;
  if (draft.streaming.storeType === StoreType.memory) {
    fail('stan: clustering mode not supported with MEMORY store type');
  }
  // The reference would generate an ID here, but the peers' lists could never name it.
  // (With both --cluster_bootstrap and --cluster_peers, the peers win, as in the reference.)
  if (clustering.peers.length > 0 && own === '') {
    fail('--cluster_peers lists node IDs, so this node needs its own --cluster_node_id');
  }
  const counts: readonly (readonly [number, string, number])[] = [
    [clustering.logCacheSize, '--cluster_log_cache_size', 0],
    [clustering.logSnapshots, '--cluster_log_snapshots', 1],
    [clustering.trailingLogs, '--cluster_trailing_logs', 0],
  ];
  for (const [value, name, min] of counts) if (value < min) fail(`${name} must be at least ${min}`);
  const timeouts: readonly (readonly [number, string])[] = [
    [clustering.heartbeatTimeoutMs, 'raft_heartbeat_timeout'], [clustering.electionTimeoutMs, 'raft_election_timeout'],
    [clustering.leaseTimeoutMs, 'raft_lease_timeout'], [clustering.commitTimeoutMs, 'raft_commit_timeout'],
  ];
  for (const [value, name] of timeouts) if (value <= 0) fail(`${name} must be greater than 0`);
}

function validateNats(draft: OptionsDraft): void {
  const nats = draft.nats;
  const ports: readonly (readonly [number, string])[] = [
    [nats.port, '-p (port)'], [nats.httpPort, '-m (http_port)'], [nats.httpsPort, '-ms (https_port)'],
    [draft.routes.listenPort, 'the cluster port'],
  ];
  for (const [port, name] of ports) {
    if (!Number.isInteger(port) || port < -1 || port > 65_535) fail(`${name} ${port} is out of range (-1 to 65535)`);
  }
  if (nats.maxPayloadBytes <= 0) fail('max_payload must be greater than 0');
  if (nats.maxPayloadBytes > nats.maxPendingBytes) {
    fail(`max_payload (${nats.maxPayloadBytes}) cannot be higher than max_pending (${nats.maxPendingBytes})`);
  }
  if (nats.maxControlLineBytes <= 0 || nats.maxConnections <= 0 || nats.pingsOutstandingMax <= 0) {
    fail('max_control_line, max_connections and ping_max must be greater than 0');
  }
  if (nats.pingIntervalMs <= 0 || nats.writeDeadlineMs <= 0 || nats.authTimeoutMs <= 0) {
    fail('ping_interval, write_deadline and the authorization timeout must be greater than 0');
  }
  if (nats.authToken !== '' && (nats.user !== '' || nats.password !== '')) {
    fail('--auth (token) cannot be combined with --user/--pass');
  }
  for (const route of draft.routes.routes) checkUrl(route, 'route', -2);
  if (draft.routes.connectRetries < 0) fail('--connect_retries cannot be negative');
}

type TlsDraft = NonNullable<OptionsDraft['nats']['tls']>;

/** A tls block or the --tls* flags: what nats-server checks before it reads the files. */
function checkTls(tls: TlsDraft, whose: string): void {
  if (tls.certFile === '') fail(`${whose}: TLS Server certificate must be present and valid`);
  if (tls.keyFile === '') fail(`${whose}: TLS Server private key must be present and valid`);
  if (tls.timeoutMs <= 0) fail(`${whose}: the TLS timeout must be greater than 0`);
  const unknown = unknownCipherSuite(tls.cipherSuites) ?? unknownCurve(tls.curvePreferences);
  if (unknown !== undefined) fail(`${whose}: ${unknown}`);
}

/** TLS, users and permissions, route credentials: the rules nats-server 2.9 applies to them. */
function validateSecurity(draft: OptionsDraft): void {
  const nats = draft.nats;
  if (nats.tls !== null) checkTls(nats.tls, 'TLS for clients');
  if (draft.routes.tls !== null) checkTls(draft.routes.tls, 'TLS for routes');
  if (nats.httpsPort !== 0 && nats.tls === null) fail('-ms (https_port): TLS cert and key required for HTTPS: configure TLS for clients (--tls* or a tls block)');
  if (nats.httpsPort !== 0 && nats.httpPort !== 0) {
    fail(`can't specify both HTTP (${nats.httpPort}) and HTTPs (${nats.httpsPort}) ports`);
  }
  if (nats.users.length > 0) {
    if (nats.user !== '' || nats.password !== '') fail('Can not have a single user/pass and a users array');
    if (nats.authToken !== '') fail('Can not have a token and a users array');
  }
  if (nats.noAuthUser !== '') {
    if (nats.users.length === 0) fail(`no_auth_user: "${nats.noAuthUser}" present, but users are not defined`);
    if (!nats.users.some((entry) => entry.user === nats.noAuthUser)) {
      fail(`no_auth_user: "${nats.noAuthUser}" not present as user in authorization block or account configuration`);
    }
  }
  if (draft.routes.password !== '' && draft.routes.user === '') fail('cluster authorization: a password needs a user');
  const client = draft.streaming.natsClient;
  if ((client.certFile === '') !== (client.keyFile === '')) fail('--tls_client_cert and --tls_client_key go together');
}

function validateFileStore(draft: OptionsDraft): void {
  const file = draft.fileStore;
  if (file.compactFragmentationPercent < 0 || file.compactFragmentationPercent > 100) {
    fail('--file_compact_frag is a percentage (0 to 100)');
  }
  if (file.crcPolynomial <= 0 || file.crcPolynomial > 0xffffffff) fail('--file_crc_poly must be a 32-bit polynomial');
  if (file.parallelRecovery < 1) fail('--file_parallel_recovery must be at least 1');
  const nonNegative: readonly (readonly [number, string])[] = [
    [file.compactIntervalSeconds, '--file_compact_interval'], [file.compactMinFileBytes, '--file_compact_min_size'],
    [file.bufferBytes, '--file_buffer_size'], [file.sliceMaxMsgs, '--file_slice_max_msgs'],
    [file.sliceMaxBytes, '--file_slice_max_bytes'], [file.sliceMaxAgeMs, '--file_slice_max_age'],
    [file.fileDescriptorsMax, '--file_fds_limit'], [file.readBufferBytes, '--file_read_buffer_size'],
  ];
  for (const [value, name] of nonNegative) if (value < 0) fail(`${name} cannot be negative`);
}

/** A server URL must name a host, and a port unless `defaultPort` stands in (-2: none). */
function checkUrl(url: string, what: string, defaultPort: number): void {
  try {
    const { host, port } = parseHostPort(url, defaultPort);
    if (host === '' || port === -2) throw new Error(defaultPort === -2 ? 'it needs a host and a port' : 'it needs a host');
  } catch (error) {
    fail(`invalid ${what} "${redactUrlCredentials(url)}": ${error instanceof Error ? error.message.replace(url, redactUrlCredentials(url)) : String(error)}`);
  }
}
