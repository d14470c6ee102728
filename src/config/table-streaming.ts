// Options of the streaming layer: the first groups of the reference server's usage text, with
// the conf keys and aliases its `-sc` file accepts.

import { StoreType, type EncryptionCipher } from './options.js';
import {
  asBool, asList, asNumber, asString, conf, option, OptionGroup, type OptionSpec,
} from './option-spec.js';

const G = OptionGroup.streaming;
const limitsSection = 'streaming.store_limits';
const sqlReason = 'the SQL store is not built yet; use -st FILE or -st MEMORY';

function cipherOf(text: string): EncryptionCipher {
  const upper = text.toUpperCase();
  if (upper === '' || upper === 'AES' || upper === 'CHACHA') return upper;
  // The reference's error text.
  throw new Error('encryption cipher not supported');
}

function storeTypeOf(text: string): StoreType {
  const upper = text.toUpperCase();
  if (upper === StoreType.memory || upper === StoreType.file || upper === StoreType.sql) return upper;
  throw new Error(`unknown store type "${text}": use MEMORY, FILE or SQL`);
}

export const streamingOptions: readonly OptionSpec[] = [
  option({
    id: 'streaming.cluster_id', group: G, flags: ['cid', 'cluster_id'],
    conf: [conf('streaming', 'id', 'cid', 'cluster_id')], kind: 'string', defaultValue: 'test-cluster',
    usage: 'Cluster ID, shared by the server and its clients',
    apply: (d, v) => { d.streaming.clusterId = asString(v); },
  }),
  option({
    id: 'streaming.store', group: G, flags: ['st', 'store'],
    conf: [conf('streaming', 'st', 'store_type', 'store', 'storetype')], kind: 'string', defaultValue: 'MEMORY',
    usage: 'Store type: MEMORY|FILE|SQL',
    apply: (d, v) => { d.streaming.storeType = storeTypeOf(asString(v)); },
  }),
  option({
    id: 'streaming.dir', group: G, flags: ['dir'], conf: [conf('streaming', 'dir', 'datastore')],
    kind: 'string', defaultValue: '', usage: 'Root directory of the FILE store',
    apply: (d, v) => { d.streaming.dir = asString(v); },
  }),
  option({
    id: 'streaming.max_channels', group: G, flags: ['mc', 'max_channels'],
    conf: [conf(limitsSection, 'mc', 'max_channels', 'maxchannels')], kind: 'int', defaultValue: 100,
    usage: 'Maximum number of channels (0 for unlimited)',
    apply: (d, v) => { d.streaming.limits.maxChannels = asNumber(v); },
  }),
  option({
    id: 'streaming.max_subs', group: G, flags: ['msu', 'max_subs'],
    conf: [conf(limitsSection, 'msu', 'max_subs', 'max_subscriptions', 'maxsubscriptions')], kind: 'int',
    defaultValue: 1000, usage: 'Maximum number of subscriptions per channel (0 for unlimited)',
    apply: (d, v) => { d.streaming.limits.global.maxSubscriptions = asNumber(v); },
  }),
  option({
    id: 'streaming.max_msgs', group: G, flags: ['mm', 'max_msgs'],
    conf: [conf(limitsSection, 'mm', 'max_msgs', 'maxmsgs', 'max_count', 'maxcount')], kind: 'int',
    defaultValue: 1_000_000, usage: 'Maximum number of messages per channel (0 for unlimited)',
    apply: (d, v) => { d.streaming.limits.global.maxMsgs = asNumber(v); },
  }),
  option({
    id: 'streaming.max_bytes', group: G, flags: ['mb', 'max_bytes'],
    conf: [conf(limitsSection, 'mb', 'max_bytes', 'maxbytes')], kind: 'size', defaultValue: 1_024_000_000,
    usage: 'Maximum total size of the messages of a channel (0 for unlimited)',
    apply: (d, v) => { d.streaming.limits.global.maxBytes = asNumber(v); },
  }),
  option({
    id: 'streaming.max_age', group: G, flags: ['ma', 'max_age'],
    conf: [conf(limitsSection, 'ma', 'max_age', 'maxage')], kind: 'duration', defaultValue: 0, defaultText: '0s',
    usage: 'Maximum age of a stored message ("0s" for unlimited)',
    apply: (d, v) => { d.streaming.limits.global.maxAgeMs = asNumber(v); },
  }),
  option({
    id: 'streaming.max_inactivity', group: G, flags: ['mi', 'max_inactivity'],
    conf: [conf(limitsSection, 'mi', 'max_inactivity', 'maxinactivity')], kind: 'duration', defaultValue: 0,
    defaultText: '0s',
    usage: 'How long a channel may go without messages or subscriptions before it is deleted (0 for never)',
    apply: (d, v) => { d.streaming.limits.global.maxInactivityMs = asNumber(v); },
  }),
  option({
    id: 'streaming.nats_server', group: G, flags: ['ns', 'nats_server'],
    conf: [conf('streaming', 'ns', 'nats_server', 'nats_server_url')], kind: 'string', defaultValue: '',
    usage: 'URL of an external NATS server to use instead of the embedded one', secret: true,
    apply: (d, v) => { d.streaming.natsServerUrl = asString(v); },
  }),
  option({
    id: 'streaming.stan_config', group: G, flags: ['sc', 'stan_config'], kind: 'string', defaultValue: '',
    usage: 'Streaming configuration file',
    apply: (d, v) => { d.streaming.configFile = asString(v); },
  }),
  option({
    id: 'streaming.hb_interval', group: G, flags: ['hbi', 'hb_interval'],
    conf: [conf('streaming', 'hbi', 'hb_interval', 'server_to_client_hb_interval')], kind: 'duration',
    defaultValue: 30_000, defaultText: '30s', usage: 'Interval between heartbeats the server sends to a client',
    apply: (d, v) => { d.streaming.heartbeatIntervalMs = asNumber(v); },
  }),
  option({
    id: 'streaming.hb_timeout', group: G, flags: ['hbt', 'hb_timeout'],
    conf: [conf('streaming', 'hbt', 'hb_timeout', 'server_to_client_hb_timeout')], kind: 'duration',
    defaultValue: 10_000, defaultText: '10s', usage: 'How long the server waits for a heartbeat answer',
    apply: (d, v) => { d.streaming.heartbeatTimeoutMs = asNumber(v); },
  }),
  option({
    id: 'streaming.hb_fail_count', group: G, flags: ['hbf', 'hb_fail_count'],
    conf: [conf('streaming', 'hbf', 'hb_fail_count', 'server_to_client_hb_fail_count')], kind: 'int',
    defaultValue: 10, usage: 'Missed heartbeats after which the server closes the client',
    apply: (d, v) => { d.streaming.heartbeatFailCountMax = asNumber(v); },
  }),
  option({
    id: 'streaming.ft_group', group: G, flags: ['ft_group'], conf: [conf('streaming', 'ft_group', 'ft_group_name')],
    kind: 'string', defaultValue: '', usage: 'Name of the fault-tolerance group (one active server, shared store)',
    notYet: 'FT groups are not built; use --clustered for high availability',
  }),
  option({
    id: 'streaming.signal', group: G, flags: ['sl', 'signal'], kind: 'string', argName: '<signal>[=<pid>]',
    defaultValue: '', usage: 'Send a signal (stop, quit, reopen, reload) to a running server',
    notYet: 'sending signals from the command line is not built; use kill(1)',
  }),
  option({
    id: 'streaming.encrypt', group: G, flags: ['encrypt'], conf: [conf('streaming', 'encrypt')], kind: 'bool',
    defaultValue: false, usage: 'Encrypt the stored messages',
    apply: (d, v) => { d.streaming.encrypt = asBool(v); },
  }),
  option({
    id: 'streaming.encryption_cipher', group: G, flags: ['encryption_cipher'],
    conf: [conf('streaming', 'encryption_cipher')], kind: 'string', defaultValue: '', defaultText: 'CHACHA',
    usage: 'Cipher for encryption at rest: AES or CHACHA',
    referenceDefault: {
      text: 'AES on x86, CHACHA elsewhere',
      why: 'ChaCha20 goes through libsodium here, several times cheaper per message than AES-GCM in node:crypto; without libsodium tstan chooses as the reference does. Each payload names its cipher and both servers read both',
    },
    apply: (d, v) => { d.streaming.encryptionCipher = cipherOf(asString(v)); },
  }),
  option({
    id: 'streaming.encryption_key', group: G, flags: ['encryption_key'], conf: [conf('streaming', 'encryption_key')],
    kind: 'string', defaultValue: '', usage: 'Encryption key (better passed as NATS_STREAMING_ENCRYPTION_KEY)',
    apply: (d, v) => { d.streaming.encryptionKey = asString(v); },
  }),
  option({
    id: 'streaming.replace_durable', group: G, flags: ['replace_durable'],
    conf: [conf('streaming', 'replace_durable', 'replace_durables', 'replace_duplicate_durable',
      'replace_duplicate_durables')],
    kind: 'bool', defaultValue: false, usage: 'Let a new durable subscription replace an existing one of the same name',
    apply: (d, v) => { d.streaming.replaceDurable = asBool(v); },
  }),
  option({
    id: 'streaming.io_batch_size', group: G, flags: ['io_batch_size'], kind: 'int', defaultValue: 1024, hidden: true,
    usage: 'Maximum messages stored per IO batch', notYet: 'tstan batches per event-loop turn; this knob is not built',
  }),
  option({
    id: 'streaming.io_sleep_time', group: G, flags: ['io_sleep_time'], kind: 'int', defaultValue: 0, hidden: true,
    usage: 'Microseconds to wait for more messages before an IO batch',
    notYet: 'tstan batches per event-loop turn; this knob is not built',
  }),
  option({
    id: 'streaming.discover_prefix', group: G, conf: [conf('streaming', 'discover_prefix')], kind: 'string',
    defaultValue: '_STAN.discover', usage: 'Subject prefix clients send connect requests to',
    apply: (d, v) => { d.streaming.discoverPrefix = asString(v); },
  }),
  option({
    id: 'streaming.partitioning', group: G, conf: [conf('streaming', 'partitioning')], kind: 'bool',
    defaultValue: false, usage: 'Serve only the channels listed in store_limits',
    notYet: 'channel partitioning is not built',
  }),
  // The streaming layer's credentials towards its NATS server. With the embedded server the
  // streaming layer is in-process and needs none; with -ns they are what it connects with.
  option({
    id: 'streaming.username', group: G, conf: [conf('streaming', 'username', 'user')], kind: 'string', defaultValue: '',
    usage: 'NATS user the streaming layer connects to -ns with (default: --user)',
    apply: (d, v) => { d.streaming.natsClient.user = asString(v); },
  }),
  option({
    id: 'streaming.password', group: G, conf: [conf('streaming', 'password', 'pass')], kind: 'string', defaultValue: '',
    usage: 'NATS password the streaming layer connects to -ns with (default: --pass)', secret: true,
    apply: (d, v) => { d.streaming.natsClient.password = asString(v); },
  }),
  option({
    id: 'streaming.token', group: G, conf: [conf('streaming', 'token')], kind: 'string', defaultValue: '',
    usage: 'NATS token the streaming layer connects to -ns with (default: --auth)', secret: true,
    apply: (d, v) => { d.streaming.natsClient.token = asString(v); },
  }),
  ...['credentials', 'nkey_seed_file'].map((key) => option({
    id: `streaming.${key}`, group: G, conf: [conf('streaming', key)],
    kind: 'string', defaultValue: '', usage: `NATS ${key.replaceAll('_', ' ')} the streaming layer connects with`,
    notYet: 'JWT and nkey authentication are not built',
  })),
];

const CG = OptionGroup.clustering;
const cs = 'streaming.cluster';

export const clusteringOptions: readonly OptionSpec[] = [
  option({
    id: 'clustering.clustered', group: CG, flags: ['clustered'], kind: 'bool', defaultValue: false,
    usage: 'Run as a node of a Raft cluster (a `cluster {}` block in -sc does the same)',
    apply: (d, v) => { d.clustering.clustered = asBool(v); },
  }),
  option({
    id: 'clustering.node_id', group: CG, flags: ['cluster_node_id'], conf: [conf(cs, 'node_id')], kind: 'string',
    defaultValue: '', defaultText: 'stored or random', usage: 'ID of this node, used when none is stored yet',
    apply: (d, v) => { d.clustering.nodeId = asString(v); },
  }),
  option({
    id: 'clustering.bootstrap', group: CG, flags: ['cluster_bootstrap'], conf: [conf(cs, 'bootstrap')], kind: 'bool',
    defaultValue: false, usage: 'With no state yet, elect this node leader to seed the cluster',
    apply: (d, v) => { d.clustering.bootstrap = asBool(v); },
  }),
  option({
    id: 'clustering.peers', group: CG, flags: ['cluster_peers'], conf: [conf(cs, 'peers')], kind: 'list',
    defaultValue: [], usage: 'Comma-separated node IDs of the peers that form the initial cluster',
    apply: (d, v) => { d.clustering.peers = asList(v); },
  }),
  option({
    id: 'clustering.log_path', group: CG, flags: ['cluster_log_path'], conf: [conf(cs, 'log_path')], kind: 'string',
    defaultValue: '', defaultText: './<cluster id>/<node id>', usage: 'Directory of the replicated log',
    apply: (d, v) => { d.clustering.logPath = asString(v); },
  }),
  option({
    id: 'clustering.log_cache_size', group: CG, flags: ['cluster_log_cache_size'], conf: [conf(cs, 'log_cache_size')],
    kind: 'int', defaultValue: 512, usage: 'Log entries cached in memory',
    apply: (d, v) => { d.clustering.logCacheSize = asNumber(v); },
  }),
  option({
    id: 'clustering.log_snapshots', group: CG, flags: ['cluster_log_snapshots'], conf: [conf(cs, 'log_snapshots')],
    kind: 'int', defaultValue: 2, usage: 'Snapshots kept',
    apply: (d, v) => { d.clustering.logSnapshots = asNumber(v); },
  }),
  option({
    id: 'clustering.trailing_logs', group: CG, flags: ['cluster_trailing_logs'], conf: [conf(cs, 'trailing_logs')],
    kind: 'int', defaultValue: 10_240, usage: 'Log entries kept behind a snapshot after compaction',
    apply: (d, v) => { d.clustering.trailingLogs = asNumber(v); },
  }),
  option({
    id: 'clustering.sync', group: CG, flags: ['cluster_sync'], conf: [conf(cs, 'sync')], kind: 'bool',
    defaultValue: true, usage: 'fsync every write to the replicated log and the message store',
    referenceDefault: {
      text: 'false',
      why: 'a message is acknowledged only once it is fsynced on a majority of the nodes, so no acknowledged message is lost when every node loses power',
    },
    apply: (d, v) => { d.clustering.sync = asBool(v); },
  }),
  option({
    id: 'clustering.raft_logging', group: CG, flags: ['cluster_raft_logging'], conf: [conf(cs, 'raft_logging')],
    kind: 'bool', defaultValue: false, usage: 'Log what the Raft layer does',
    apply: (d, v) => { d.clustering.raftLogging = asBool(v); },
  }),
  option({
    id: 'clustering.proceed_on_restore_failure', group: CG, flags: ['cluster_proceed_on_restore_failure'],
    conf: [conf(cs, 'proceed_on_restore_failure')], kind: 'bool', defaultValue: false,
    usage: 'Start even when messages missing after a snapshot restore cannot be fetched',
    apply: (d, v) => { d.clustering.proceedOnRestoreFailure = asBool(v); },
  }),
  option({
    id: 'clustering.allow_add_remove_node', group: CG, flags: ['cluster_allow_add_remove_node'],
    conf: [conf(cs, 'allow_add_remove_node')], kind: 'bool', defaultValue: false,
    usage: 'Let the leader serve requests that add or remove cluster nodes',
    apply: (d, v) => { d.clustering.allowAddRemoveNode = asBool(v); },
  }),
  // A tick is raft_commit_timeout (the leader's heartbeat); a follower that hears nothing campaigns
  // after [T, 2T], T the longer of the heartbeat and election timeouts, as in hashicorp/raft.
  ...([
    ['raft_heartbeat_timeout', 1_000, '1s', 'heartbeatTimeoutMs', true],
    ['raft_election_timeout', 1_000, '1s', 'electionTimeoutMs', true],
    ['raft_lease_timeout', 1_000, '1s', 'leaseTimeoutMs', false],
    ['raft_commit_timeout', 100, '100ms', 'commitTimeoutMs', false],
  ] as const).map(([key, ms, text, field, faster]) => option({
    id: `clustering.${key}`, group: CG, conf: [conf(cs, key)], kind: 'duration', defaultValue: ms, defaultText: text,
    usage: `Raft ${key.slice(5).replace('_', ' ')}`,
    ...(faster ? { referenceDefault: { text: '2s', why: 'a new leader within about 1-2 s of losing one; PreVote and CheckQuorum keep a slow node from disrupting a healthy leader' } } : {}),
    apply: (d, v) => { d.clustering[field] = asNumber(v); },
  })),
  ...(['bolt_free_list_sync', 'bolt_free_list_map', 'nodes_connections'] as const).map((key) => option({
    id: `clustering.${key}`, group: CG, conf: [conf(cs, key)], kind: 'bool', defaultValue: false,
    usage: key === 'nodes_connections' ? 'One NATS connection per remote node' : 'bbolt free-list tuning',
    notYet: key === 'nodes_connections'
      ? 'Raft traffic shares one NATS connection in tstan'
      : 'tstan keeps its Raft log in LevelDB, not bbolt',
  })),
];

const SG = OptionGroup.sqlStore;
export const sqlOptions: readonly OptionSpec[] = [
  ['sql_driver', ['driver'], 'string', '', 'SQL driver: mysql or postgres'],
  ['sql_source', ['source'], 'string', '', 'Data source used to open the SQL connection'],
  ['sql_no_caching', ['no_caching'], 'bool', false, 'Disable the store cache'],
  ['sql_max_open_conns', ['max_open_conns', 'max_conns'], 'int', 0, 'Maximum open database connections'],
  ['sql_bulk_insert_limit', ['bulk_insert_limit'], 'int', 0, 'Maximum messages per INSERT statement'],
].map(([flag, keys, kind, defaultValue, usage]) => option({
  id: `sql.${String(flag).slice(4)}`, group: SG, flags: [String(flag)],
  conf: [conf('streaming.sql', ...(keys as string[]))], kind: kind as 'string' | 'bool' | 'int',
  defaultValue: defaultValue as string | boolean | number, usage: String(usage), notYet: sqlReason,
}));

const TG = OptionGroup.streamingTls;
// TLS of the streaming layer's connection to its NATS server. With the embedded server that
// connection is in-process (no socket, nothing to encrypt); these apply to -ns.
export const streamingTlsOptions: readonly OptionSpec[] = [
  option({
    id: 'streaming_tls.secure', group: TG, flags: ['secure'], conf: [conf('streaming', 'secure')], kind: 'bool',
    defaultValue: false, usage: 'Use TLS towards the -ns NATS server (verified against the system CAs or --tls_client_cacert)',
    apply: (d, v) => { d.streaming.natsClient.secure = asBool(v); },
  }),
  option({
    id: 'streaming_tls.client_key', group: TG, flags: ['tls_client_key'], conf: [conf('streaming.tls', 'client_key')],
    kind: 'string', defaultValue: '', usage: 'Client key of the streaming layer (-ns)',
    apply: (d, v) => { d.streaming.natsClient.keyFile = asString(v); },
  }),
  option({
    id: 'streaming_tls.client_cert', group: TG, flags: ['tls_client_cert'], conf: [conf('streaming.tls', 'client_cert')],
    kind: 'string', defaultValue: '', usage: 'Client certificate of the streaming layer (-ns)',
    apply: (d, v) => { d.streaming.natsClient.certFile = asString(v); },
  }),
  option({
    id: 'streaming_tls.client_cacert', group: TG, flags: ['tls_client_cacert'],
    conf: [conf('streaming.tls', 'client_ca', 'client_cacert')], kind: 'string', defaultValue: '',
    usage: 'CA certificate to verify the -ns NATS server with',
    apply: (d, v) => { d.streaming.natsClient.caFile = asString(v); },
  }),
  option({
    id: 'streaming_tls.server_name', group: TG, conf: [conf('streaming.tls', 'server_name', 'server_hostname')],
    kind: 'string', defaultValue: '', usage: 'Server name expected in the NATS server certificate',
    apply: (d, v) => { d.streaming.natsClient.serverName = asString(v); },
  }),
  option({
    id: 'streaming_tls.skip_verify', group: TG, conf: [conf('streaming.tls', 'skip_verify', 'insecure')],
    kind: 'bool', defaultValue: false, usage: 'Do not verify the NATS server certificate',
    apply: (d, v) => { d.streaming.natsClient.skipVerify = asBool(v); },
  }),
];

const LG = OptionGroup.streamingLogging;
export const streamingLoggingOptions: readonly OptionSpec[] = [
  option({
    id: 'logging.stan_debug', group: LG, flags: ['SD', 'stan_debug'], conf: [conf('streaming', 'sd', 'stan_debug')],
    kind: 'bool', defaultValue: false, usage: 'Debug output of the streaming layer',
    apply: (d, v) => { d.logging.stanDebug = asBool(v); },
  }),
  option({
    id: 'logging.stan_trace', group: LG, flags: ['SV', 'stan_trace'], conf: [conf('streaming', 'sv', 'stan_trace')],
    kind: 'bool', defaultValue: false, usage: 'Trace the streaming protocol',
    apply: (d, v) => { d.logging.stanTrace = asBool(v); },
  }),
  option({
    id: 'logging.stan_debug_trace', group: LG, flags: ['SDV'], kind: 'bool', defaultValue: false, late: true,
    usage: 'Debug and trace the streaming layer',
    apply: (d, v) => { d.logging.stanDebug = asBool(v); d.logging.stanTrace = asBool(v); },
  }),
  option({
    id: 'logging.syslog_name', group: LG, flags: ['syslog_name'], conf: [conf('streaming', 'syslog_name')],
    kind: 'string', defaultValue: '', usage: 'Event source name when running as a Windows service',
    notYet: 'Windows services are not supported',
  }),
];
