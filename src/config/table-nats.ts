// Options of the embedded NATS server: the reference's NATS groups of the usage text (they are
// nats-server 2.9's flags), with the keys of the `-c` file that nats-server reads.

import {
  asBool, asList, asNumber, asString, conf, option, OptionGroup, parseHostPort, type ConfSection, type OptionSpec,
} from './option-spec.js';
import { LogFormatChoice, newTlsDraft, type OptionsDraft } from './options.js';

const E = OptionGroup.embeddedNats;

function logFormatOf(text: string): LogFormatChoice {
  const lower = text.toLowerCase();
  if (lower === LogFormatChoice.auto || lower === LogFormatChoice.json || lower === LogFormatChoice.text) return lower;
  throw new Error(`unknown log format "${text}": use auto, json or text`);
}

export const embeddedNatsOptions: readonly OptionSpec[] = [
  option({
    id: 'nats.addr', group: E, flags: ['a', 'addr', 'net'], conf: [conf('nats', 'host', 'net')], kind: 'string',
    defaultValue: '0.0.0.0', usage: 'Host address clients connect to',
    apply: (d, v) => { d.nats.host = asString(v); },
  }),
  option({
    id: 'nats.port', group: E, flags: ['p', 'port'], conf: [conf('nats', 'port')], kind: 'int', defaultValue: 4222,
    usage: 'Port clients connect to (-1 for a free port)',
    apply: (d, v) => { d.nats.port = asNumber(v); },
  }),
  option({
    id: 'nats.listen', group: E, conf: [conf('nats', 'listen')], kind: 'listen', defaultValue: '',
    usage: 'Client listen address as host:port',
    apply: (d, v) => {
      const { host, port } = parseHostPort(asString(v), 4222);
      if (host !== '') d.nats.host = host;
      d.nats.port = port;
    },
  }),
  option({
    id: 'nats.server_name', group: E, flags: ['n', 'name', 'server_name'], conf: [conf('nats', 'server_name')],
    kind: 'string', defaultValue: '', defaultText: 'the server ID', usage: 'Server name',
    apply: (d, v) => { d.nats.serverName = asString(v); },
  }),
  option({
    id: 'nats.pid', group: E, flags: ['P', 'pid'], conf: [conf('nats', 'pid_file')], kind: 'string',
    defaultValue: '', usage: 'File to write the process ID to', notYet: 'PID files are not written yet',
  }),
  option({
    id: 'nats.http_port', group: E, flags: ['m', 'http_port'], conf: [conf('nats', 'http_port', 'monitor_port')],
    kind: 'int', defaultValue: 0, usage: 'Port of the HTTP monitoring endpoints (-1 for a free port)',
    apply: (d, v) => { d.nats.httpPort = asNumber(v); },
  }),
  option({
    id: 'nats.http', group: E, conf: [conf('nats', 'http', 'monitor')], kind: 'listen', defaultValue: '',
    usage: 'Monitoring listen address as host:port',
    apply: (d, v) => {
      const { host, port } = parseHostPort(asString(v), 0);
      if (host !== '') d.nats.httpHost = host;
      d.nats.httpPort = port;
    },
  }),
  option({
    id: 'nats.https', group: E, conf: [conf('nats', 'https')], kind: 'listen', defaultValue: '',
    usage: 'HTTPS monitoring listen address as host:port',
    apply: (d, v) => {
      const { host, port } = parseHostPort(asString(v), 0);
      if (host !== '') d.nats.httpHost = host;
      d.nats.httpsPort = port;
    },
  }),
  option({
    id: 'nats.https_port', group: E, flags: ['ms', 'https_port'], conf: [conf('nats', 'https_port')],
    kind: 'int', defaultValue: 0, usage: 'Port of the HTTPS monitoring endpoints, with the TLS certificate of clients (-1 for a free port)',
    apply: (d, v) => { d.nats.httpsPort = asNumber(v); },
  }),
  option({
    id: 'nats.config', group: E, flags: ['c', 'config'], kind: 'string', defaultValue: '',
    usage: 'NATS configuration file',
    apply: (d, v) => { d.nats.configFile = asString(v); },
  }),
  option({
    id: 'nats.check_config', group: E, flags: ['t'], kind: 'bool', defaultValue: false,
    usage: 'Check the configuration and exit',
    apply: (d, v) => { if (asBool(v)) d.action = 'check'; },
  }),
  option({
    id: 'nats.client_advertise', group: E, flags: ['client_advertise'], conf: [conf('nats', 'client_advertise')],
    kind: 'string', defaultValue: '', usage: 'Client URL advertised to other servers',
    notYet: 'advertising another client URL is not built',
  }),
  option({
    id: 'nats.ports_file_dir', group: E, flags: ['ports_file_dir'], conf: [conf('nats', 'ports_file_dir')],
    kind: 'string', defaultValue: '', usage: 'Directory where <executable>_<pid>.ports is written',
    apply: (d, v) => { d.nats.portsFileDir = asString(v); },
  }),
  ...([
    ['max_payload', 'size', 'maxPayloadBytes', 1024 * 1024, '1MB', 'Largest message payload accepted'],
    ['max_control_line', 'size', 'maxControlLineBytes', 4096, '4KB', 'Longest protocol line accepted'],
    ['max_pending', 'size', 'maxPendingBytes', 64 * 1024 * 1024, '64MB', 'Bytes pending to a client before it is a slow consumer'],
    ['max_connections', 'int', 'maxConnections', 64 * 1024, '65536', 'Maximum client connections'],
    ['ping_interval', 'duration', 'pingIntervalMs', 120_000, '2m', 'Interval of server pings to clients'],
    ['ping_max', 'int', 'pingsOutstandingMax', 2, '2', 'Unanswered pings before a client is dropped'],
    ['write_deadline', 'duration', 'writeDeadlineMs', 10_000, '10s', 'Time a write to a client may take'],
  ] as const).map(([key, kind, field, value, text, usage]) => option({
    id: `nats.${key}`, group: E, conf: [conf('nats', key, ...(key === 'max_connections' ? ['max_conn'] : []))],
    kind, defaultValue: value, defaultText: text, usage,
    apply: (d, v) => { d.nats[field] = asNumber(v); },
  })),
];

const L = OptionGroup.logging;
export const loggingOptions: readonly OptionSpec[] = [
  option({
    id: 'logging.log', group: L, flags: ['l', 'log'], conf: [conf('nats', 'log_file', 'logfile')], kind: 'string',
    defaultValue: '', usage: 'File to write the log to',
    apply: (d, v) => { d.logging.file = asString(v); },
  }),
  option({
    id: 'logging.logtime', group: L, flags: ['T', 'logtime'], conf: [conf('nats', 'logtime')], kind: 'bool',
    defaultValue: true, usage: 'Timestamp log entries',
    apply: (d, v) => { d.logging.timestamps = asBool(v); },
  }),
  option({
    id: 'logging.log_format', group: L, flags: ['log_format'], conf: [conf('nats', 'log_format')], kind: 'string',
    argName: '<auto|json|text>', defaultValue: 'auto', tstanOnly: true,
    usage: 'Log lines as JSON or as text; auto is text on a terminal, JSON otherwise and into a -l file',
    apply: (d, v) => { d.logging.format = logFormatOf(asString(v)); },
  }),
  option({
    id: 'logging.syslog', group: L, flags: ['s', 'syslog'], conf: [conf('nats', 'syslog')], kind: 'bool',
    defaultValue: false, usage: 'Log to syslog', notYet: 'syslog output is not built; logs go to stdout or the -l file (--log_format)',
  }),
  option({
    id: 'logging.remote_syslog', group: L, flags: ['r', 'remote_syslog'], conf: [conf('nats', 'remote_syslog')],
    kind: 'string', defaultValue: '', usage: 'Syslog server address (udp://localhost:514)',
    notYet: 'syslog output is not built; logs go to stdout or the -l file (--log_format)',
  }),
  option({
    id: 'logging.debug', group: L, flags: ['D', 'debug'], conf: [conf('nats', 'debug')], kind: 'bool',
    defaultValue: false, usage: 'Debug output',
    apply: (d, v) => { d.logging.debug = asBool(v); },
  }),
  option({
    id: 'logging.trace', group: L, flags: ['V', 'trace'], conf: [conf('nats', 'trace')], kind: 'bool',
    defaultValue: false, usage: 'Trace the NATS protocol',
    apply: (d, v) => { d.logging.trace = asBool(v); },
  }),
  option({
    id: 'logging.trace_verbose', group: L, flags: ['VV'], conf: [conf('nats', 'trace_verbose')], kind: 'bool',
    defaultValue: false, late: true, usage: 'Verbose trace (tstan has no system account: same as -V)',
    apply: (d, v) => { if (asBool(v)) d.logging.trace = true; },
  }),
  option({
    id: 'logging.debug_trace', group: L, flags: ['DV'], kind: 'bool', defaultValue: false, late: true,
    usage: 'Debug and trace',
    apply: (d, v) => { d.logging.debug = asBool(v); d.logging.trace = asBool(v); },
  }),
  option({
    id: 'logging.debug_trace_verbose', group: L, flags: ['DVV'], kind: 'bool', defaultValue: false, late: true,
    usage: 'Debug and verbose trace (same as -DV)',
    apply: (d, v) => { d.logging.debug = asBool(v); d.logging.trace = asBool(v); },
  }),
  option({
    id: 'logging.log_size_limit', group: L, flags: ['log_size_limit'], conf: [conf('nats', 'log_size_limit', 'logfile_size_limit')],
    kind: 'size', defaultValue: 0, usage: 'Size at which the log file is rotated',
    notYet: 'log rotation is not built; SIGUSR1 reopens the log file',
  }),
  option({
    id: 'logging.max_traced_msg_len', group: L, flags: ['max_traced_msg_len'],
    conf: [conf('nats', 'max_traced_msg_len')], kind: 'int', defaultValue: 0,
    usage: 'Longest payload printed in traces (0 for all)', notYet: 'payloads are not traced yet',
  }),
];

const A = OptionGroup.authorization;
export const authorizationOptions: readonly OptionSpec[] = [
  option({
    id: 'auth.user', group: A, flags: ['user'], conf: [conf('nats.authorization', 'user', 'username')],
    kind: 'string', defaultValue: '', usage: 'User required of clients',
    apply: (d, v) => { d.nats.user = asString(v); },
  }),
  option({
    id: 'auth.pass', group: A, flags: ['pass'], conf: [conf('nats.authorization', 'password', 'pass')],
    kind: 'string', defaultValue: '', usage: 'Password required of clients (plain, or a bcrypt hash)', secret: true,
    apply: (d, v) => { d.nats.password = asString(v); },
  }),
  option({
    id: 'auth.token', group: A, flags: ['auth'], conf: [conf('nats.authorization', 'token')], kind: 'string',
    defaultValue: '', usage: 'Token required of clients (plain, or a bcrypt hash)', secret: true,
    apply: (d, v) => { d.nats.authToken = asString(v); },
  }),
  option({
    id: 'auth.timeout', group: A, conf: [conf('nats.authorization', 'timeout')], kind: 'duration',
    defaultValue: 2_000, defaultText: '2s', usage: 'Time a client has to authenticate (seconds or a duration)',
    apply: (d, v) => { d.nats.authTimeoutMs = asNumber(v); },
  }),
  // Read by conf-authorization.ts (they are lists and blocks); listed here for the docs and -t.
  option({
    id: 'auth.users', group: A, conf: [conf('nats.authorization', 'users')], kind: 'block', defaultValue: false,
    usage: 'Users: [{ user, password (plain or bcrypt), permissions { publish, subscribe, allow_responses } }]',
    secret: true, apply: () => undefined,
  }),
  option({
    id: 'auth.permissions', group: A,
    conf: [conf('nats.authorization', 'permissions', 'default_permissions', 'default_permission')], kind: 'block',
    defaultValue: false, usage: 'Permissions of the listed users that have none of their own',
    apply: () => undefined,
  }),
  option({
    id: 'auth.auth_callout', group: A, conf: [conf('nats.authorization', 'auth_callout')], kind: 'block',
    defaultValue: false, usage: 'Authorization by a callout service', notYet: 'auth callout is not part of nats-server 2.9',
  }),
  option({
    id: 'auth.no_auth_user', group: A, conf: [conf('nats', 'no_auth_user')], kind: 'string', defaultValue: '',
    usage: 'User of the users list that clients without credentials are taken to be',
    apply: (d, v) => { d.nats.noAuthUser = asString(v); },
  }),
];

/** The settings a TLS flag or key writes to, made when the first of them is given. */
type TlsDraft = NonNullable<OptionsDraft['nats']['tls']>;
function clientTls(d: OptionsDraft): TlsDraft {
  return (d.nats.tls ??= newTlsDraft());
}
function routeTls(d: OptionsDraft): TlsDraft {
  return (d.routes.tls ??= newTlsDraft());
}

/** The keys of a `tls {}` block, for clients or for routes. */
function tlsBlockOptions(prefix: string, group: OptionGroup, section: ConfSection, target: (d: OptionsDraft) => TlsDraft, whose: string): OptionSpec[] {
  const notBuilt = (what: string): string => `${what} is not built`;
  return [
    option({
      id: `${prefix}.cert_file`, group, conf: [conf(section, 'cert_file')], kind: 'string', defaultValue: '',
      usage: `Certificate file of ${whose}`, apply: (d, v) => { target(d).certFile = asString(v); },
    }),
    option({
      id: `${prefix}.key_file`, group, conf: [conf(section, 'key_file')], kind: 'string', defaultValue: '',
      usage: `Private key file of ${whose}`, apply: (d, v) => { target(d).keyFile = asString(v); },
    }),
    option({
      id: `${prefix}.ca_file`, group, conf: [conf(section, 'ca_file')], kind: 'string', defaultValue: '',
      usage: 'CA certificates to verify peers with', apply: (d, v) => { target(d).caFile = asString(v); },
    }),
    option({
      id: `${prefix}.verify`, group, conf: [conf(section, 'verify')], kind: 'bool', defaultValue: false,
      usage: 'Require and verify a certificate of each peer', apply: (d, v) => { target(d).verify = asBool(v); },
    }),
    option({
      id: `${prefix}.timeout`, group, conf: [conf(section, 'timeout')], kind: 'duration', defaultValue: 2_000,
      defaultText: '2s', usage: 'Time a TLS handshake may take (seconds or a duration)',
      apply: (d, v) => { target(d).timeoutMs = asNumber(v); },
    }),
    option({
      id: `${prefix}.cipher_suites`, group, conf: [conf(section, 'cipher_suites')], kind: 'list', defaultValue: [],
      usage: 'TLS 1.2 cipher suites, Go names (--help_tls lists them); TLS 1.3 suites are always on',
      apply: (d, v) => { target(d).cipherSuites = asList(v); },
    }),
    option({
      id: `${prefix}.curve_preferences`, group, conf: [conf(section, 'curve_preferences')], kind: 'list',
      defaultValue: [], usage: 'Key exchange curves, Go names (CurveP256, CurveP384, CurveP521, X25519)',
      apply: (d, v) => { target(d).curvePreferences = asList(v); },
    }),
    option({
      id: `${prefix}.insecure`, group, conf: [conf(section, 'insecure')], kind: 'bool', defaultValue: false,
      usage: 'Do not verify the certificate of a route this server dials (no effect on accepted connections)',
      apply: (d, v) => { target(d).insecure = asBool(v); },
    }),
    option({
      id: `${prefix}.verify_and_map`, group, conf: [conf(section, 'verify_and_map')], kind: 'bool', defaultValue: false,
      usage: 'Verify client certificates and map their subject to a user', notYet: notBuilt('mapping certificates to users'),
    }),
    option({
      id: `${prefix}.pinned_certs`, group, conf: [conf(section, 'pinned_certs')], kind: 'list', defaultValue: [],
      usage: 'Fingerprints of the only certificates accepted', notYet: notBuilt('certificate pinning'),
    }),
    option({
      id: `${prefix}.connection_rate_limit`, group, conf: [conf(section, 'connection_rate_limit')], kind: 'int',
      defaultValue: 0, usage: 'TLS handshakes accepted per second', notYet: notBuilt('a TLS handshake rate limit'),
    }),
  ];
}

const T = OptionGroup.natsTls;
export const natsTlsOptions: readonly OptionSpec[] = [
  // As nats-server: any --tls* flag turns TLS on, overriding the tls block key by key; -tls=false
  // (applied last) turns it off whatever else is given.
  option({
    id: 'tls.tls', group: T, flags: ['tls'], kind: 'bool', defaultValue: false, late: true,
    usage: 'Require TLS of clients, without verifying their certificates',
    apply: (d, v) => { if (asBool(v)) clientTls(d); else d.nats.tls = null; },
  }),
  option({
    id: 'tls.tlscert', group: T, flags: ['tlscert'], kind: 'string', defaultValue: '', usage: 'Server certificate file',
    apply: (d, v) => { clientTls(d).certFile = asString(v); },
  }),
  option({
    id: 'tls.tlskey', group: T, flags: ['tlskey'], kind: 'string', defaultValue: '', usage: 'Private key of the server certificate',
    apply: (d, v) => { clientTls(d).keyFile = asString(v); },
  }),
  option({
    id: 'tls.tlsverify', group: T, flags: ['tlsverify'], kind: 'bool', defaultValue: false,
    usage: 'Require TLS of clients and verify their certificates',
    apply: (d, v) => { clientTls(d).verify = asBool(v); },
  }),
  option({
    id: 'tls.tlscacert', group: T, flags: ['tlscacert'], kind: 'string', defaultValue: '', usage: 'CA certificate to verify clients with',
    apply: (d, v) => { clientTls(d).caFile = asString(v); },
  }),
  ...tlsBlockOptions('tls', T, 'nats.tls', clientTls, 'the server (client connections)'),
];

const R = OptionGroup.natsClustering;
const rc = 'nats.cluster';
export const natsClusteringOptions: readonly OptionSpec[] = [
  option({
    id: 'routes.routes', group: R, flags: ['routes'], conf: [conf(rc, 'routes')], kind: 'list', defaultValue: [],
    usage: 'Route URLs to solicit, comma-separated', secret: true,
    apply: (d, v) => { d.routes.routes = asList(v); },
  }),
  option({
    id: 'routes.listen', group: R, flags: ['cluster', 'cluster_listen'], conf: [conf(rc, 'listen')], kind: 'listen',
    argName: '<url>', defaultValue: '', usage: 'URL routes listen on (nats://host:port, port -1 for a free one)',
    // nats-server: credentials in the URL are what routes must present, and replace the conf's.
    secret: true,
    apply: (d, v) => {
      const { host, port, user } = parseHostPort(asString(v), 6222);
      d.routes.listenHost = host === '' ? '0.0.0.0' : host;
      d.routes.listenPort = port;
      const [name = '', password] = user === '' ? [] : user.split(':');
      if (user !== '' && password === undefined) throw new Error('expected cluster password to be set');
      d.routes.user = decodeURIComponent(name);
      d.routes.password = decodeURIComponent(password ?? '');
    },
  }),
  option({
    id: 'routes.host', group: R, conf: [conf(rc, 'host', 'net')], kind: 'string', defaultValue: '',
    usage: 'Host routes listen on', apply: (d, v) => { d.routes.listenHost = asString(v); },
  }),
  option({
    id: 'routes.port', group: R, conf: [conf(rc, 'port')], kind: 'int', defaultValue: 0,
    usage: 'Port routes listen on', apply: (d, v) => { d.routes.listenPort = asNumber(v); },
  }),
  option({
    id: 'routes.cluster_name', group: R, flags: ['cluster_name'], conf: [conf(rc, 'name')], kind: 'string',
    defaultValue: '', defaultText: 'generated', usage: 'Name of the NATS cluster',
    apply: (d, v) => { d.routes.name = asString(v); },
  }),
  option({
    id: 'routes.cluster_advertise', group: R, flags: ['cluster_advertise'],
    conf: [conf(rc, 'advertise', 'cluster_advertise')], kind: 'string', defaultValue: '',
    usage: 'Route URL advertised to other servers',
    apply: (d, v) => { d.routes.advertise = asString(v); },
  }),
  option({
    id: 'routes.no_advertise', group: R, flags: ['no_advertise'], conf: [conf(rc, 'no_advertise')], kind: 'bool',
    defaultValue: false, usage: 'Do not tell clients about the other servers of the cluster',
    apply: (d, v) => { d.routes.noAdvertise = asBool(v); },
  }),
  option({
    id: 'routes.connect_retries', group: R, flags: ['connect_retries'], conf: [conf(rc, 'connect_retries')],
    kind: 'int', defaultValue: 0, usage: 'Connect retries for implicit routes',
    apply: (d, v) => { d.routes.connectRetries = asNumber(v); },
  }),
  ...['permissions', 'pool_size', 'compression', 'accounts'].map((key) => option({
    id: `routes.${key}`, group: R, conf: [conf(rc, key)], kind: 'block', defaultValue: false,
    usage: `Route ${key.replace('_', ' ')}`, notYet: `route ${key.replace('_', ' ')} is not built yet`,
  })),
  option({
    id: 'routes_auth.user', group: R, conf: [conf('nats.cluster.authorization', 'user', 'username')], kind: 'string',
    defaultValue: '', usage: 'User that routes must present (cluster authorization)',
    apply: (d, v) => { d.routes.user = asString(v); },
  }),
  option({
    id: 'routes_auth.password', group: R, conf: [conf('nats.cluster.authorization', 'password', 'pass')],
    kind: 'string', defaultValue: '', usage: 'Password that routes must present (plain, or a bcrypt hash)', secret: true,
    apply: (d, v) => { d.routes.password = asString(v); },
  }),
  option({
    id: 'routes_auth.timeout', group: R, conf: [conf('nats.cluster.authorization', 'timeout')], kind: 'duration',
    defaultValue: 2_000, defaultText: '2s', usage: 'Time a route has to present the credentials',
    apply: (d, v) => { d.routes.authTimeoutMs = asNumber(v); },
  }),
  ...tlsBlockOptions('routes_tls', R, 'nats.cluster.tls', routeTls, 'the server (routes)'),
];

const O = OptionGroup.natsOther;
const otherNatsKeys: readonly (readonly [readonly string[], string])[] = [
  [['jetstream'], 'JetStream is not part of a STAN server'],
  [['default_js_domain'], 'JetStream is not part of a STAN server'],
  [['accounts'], 'accounts are not built'],
  [['system_account', 'system'], 'accounts are not built'],
  [['no_system_account', 'no_system', 'no_sys_acc'], 'accounts are not built'],
  [['leafnodes', 'leaf'], 'leaf nodes are not built'],
  [['gateway'], 'gateways are not built'],
  [['websocket', 'ws'], 'websocket clients are not built'],
  [['mqtt'], 'MQTT clients are not built'],
  [['operator', 'operators', 'root', 'roots', 'root_operators'], 'operator mode is not built'],
  [['resolver', 'account_resolver', 'accounts_resolver'], 'operator mode is not built'],
  [['resolver_tls', 'resolver_preload', 'trusted', 'trusted_keys'], 'operator mode is not built'],
  [['lame_duck_duration', 'lame_duck_grace_period'], 'lame duck mode is not built'],
  [['max_subscriptions', 'max_subs'], 'a per-connection subscription limit is not built'],
  [['max_closed_clients'], 'closed-connection history is not built'],
  [['disable_sublist_cache', 'no_sublist_cache'], 'the subject match cache cannot be turned off'],
  [['http_base_path'], 'monitoring under a base path is not built'],
  [['connect_error_reports', 'reconnect_error_reports'], 'report throttling is not built'],
  [['server_tags'], 'server tags are not built'],
  [['ocsp', 'ocsp_cache'], 'OCSP stapling is not built'],
  [['no_header_support'], 'headers cannot be turned off'],
];

export const otherNatsOptions: readonly OptionSpec[] = [
  option({
    id: 'nats.profile', group: O, flags: ['profile'], conf: [conf('nats', 'prof_port')], kind: 'int',
    defaultValue: 0, usage: 'Port of the profiling HTTP endpoint', notYet: 'use node --inspect instead',
  }),
  option({
    id: 'nats.jetstream_flag', group: O, flags: ['js', 'jetstream'], kind: 'bool', defaultValue: false,
    usage: 'Enable JetStream', notYet: 'JetStream is not part of a STAN server',
  }),
  option({
    id: 'nats.store_dir', group: O, flags: ['sd', 'store_dir'], kind: 'string', defaultValue: '',
    usage: 'JetStream storage directory', notYet: 'JetStream is not part of a STAN server',
  }),
  ...otherNatsKeys.map(([keys, reason]) => option({
    id: `nats.${keys[0] ?? ''}`, group: O, conf: [conf('nats', ...keys)], kind: 'block', defaultValue: false,
    usage: `nats-server's ${keys.join('/')} setting${keys.length > 1 ? 's' : ''}`, notYet: reason,
  })),
];

const C = OptionGroup.common;
export const commonOptions: readonly OptionSpec[] = [
  option({
    id: 'common.help', group: C, flags: ['h', 'help'], kind: 'bool', defaultValue: false, usage: 'Show this message',
    apply: (d, v) => { if (asBool(v)) d.action = 'help'; },
  }),
  option({
    id: 'common.version', group: C, flags: ['v', 'version'], kind: 'bool', defaultValue: false, usage: 'Show the version',
    apply: (d, v) => { if (asBool(v) && d.action !== 'help') d.action = 'version'; },
  }),
  option({
    id: 'common.help_tls', group: C, flags: ['help_tls'], kind: 'bool', defaultValue: false, usage: 'TLS help',
    apply: (d, v) => { if (asBool(v) && d.action === 'run') d.action = 'help_tls'; },
  }),
];
