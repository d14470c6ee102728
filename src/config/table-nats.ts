// Options of the embedded NATS server: the reference's NATS groups of the usage text (they are
// nats-server 2.9's flags), with the keys of the `-c` file that nats-server reads.

import {
  asBool, asList, asNumber, asString, conf, option, OptionGroup, parseHostPort, type OptionSpec,
} from './option-spec.js';
import { LogFormatChoice } from './options.js';

const E = OptionGroup.embeddedNats;

function logFormatOf(text: string): LogFormatChoice {
  const lower = text.toLowerCase();
  if (lower === LogFormatChoice.auto || lower === LogFormatChoice.json || lower === LogFormatChoice.text) return lower;
  throw new Error(`unknown log format "${text}": use auto, json or text`);
}
const tlsReason = 'TLS for clients is not built yet';

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
    id: 'nats.https_port', group: E, flags: ['ms', 'https_port'], conf: [conf('nats', 'https_port', 'https')],
    kind: 'int', defaultValue: 0, usage: 'Port of the HTTPS monitoring endpoints', notYet: tlsReason,
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
    kind: 'string', defaultValue: '', usage: 'Password required of clients',
    apply: (d, v) => { d.nats.password = asString(v); },
  }),
  option({
    id: 'auth.token', group: A, flags: ['auth'], conf: [conf('nats.authorization', 'token')], kind: 'string',
    defaultValue: '', usage: 'Token required of clients',
    apply: (d, v) => { d.nats.authToken = asString(v); },
  }),
  option({
    id: 'auth.timeout', group: A, conf: [conf('nats.authorization', 'timeout')], kind: 'duration',
    defaultValue: 2_000, defaultText: '2s', usage: 'Time a client has to authenticate (seconds or a duration)',
    apply: (d, v) => { d.nats.authTimeoutMs = asNumber(v); },
  }),
  ...['users', 'permissions', 'default_permissions', 'auth_callout'].map((key) => option({
    id: `auth.${key}`, group: A, conf: [conf('nats.authorization', key)], kind: 'block', defaultValue: false,
    usage: `Authorization ${key.replace('_', ' ')}`, notYet: 'only one user/password or one token is supported yet',
  })),
];

const T = OptionGroup.natsTls;
export const natsTlsOptions: readonly OptionSpec[] = [
  ...([
    ['tls', 'bool', false, 'Enable TLS without verifying clients'],
    ['tlscert', 'string', '', 'Server certificate file'],
    ['tlskey', 'string', '', 'Private key of the server certificate'],
    ['tlsverify', 'bool', false, 'Enable TLS and verify client certificates'],
    ['tlscacert', 'string', '', 'CA certificate to verify clients with'],
  ] as const).map(([flag, kind, value, usage]) => option({
    id: `tls.${flag}`, group: T, flags: [flag], kind, defaultValue: value, usage, notYet: tlsReason,
  })),
  option({
    id: 'tls.block', group: T, conf: [conf('nats', 'tls')], kind: 'block', defaultValue: false,
    usage: 'TLS settings block of the NATS configuration', notYet: tlsReason,
  }),
];

const R = OptionGroup.natsClustering;
const rc = 'nats.cluster';
export const natsClusteringOptions: readonly OptionSpec[] = [
  option({
    id: 'routes.routes', group: R, flags: ['routes'], conf: [conf(rc, 'routes')], kind: 'list', defaultValue: [],
    usage: 'Route URLs to solicit, comma-separated',
    apply: (d, v) => { d.routes.routes = asList(v); },
  }),
  option({
    id: 'routes.listen', group: R, flags: ['cluster', 'cluster_listen'], conf: [conf(rc, 'listen')], kind: 'listen',
    argName: '<url>', defaultValue: '', usage: 'URL routes listen on (nats://host:port, port -1 for a free one)',
    apply: (d, v) => {
      const { host, port, user } = parseHostPort(asString(v), 6222);
      if (user !== '') throw new Error('route credentials in the cluster URL are not supported yet');
      d.routes.listenHost = host === '' ? '0.0.0.0' : host;
      d.routes.listenPort = port;
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
  ...['authorization', 'tls', 'permissions', 'pool_size', 'compression', 'accounts'].map((key) => option({
    id: `routes.${key}`, group: R, conf: [conf(rc, key)], kind: 'block', defaultValue: false,
    usage: `Route ${key.replace('_', ' ')}`, notYet: `route ${key.replace('_', ' ')} is not built yet`,
  })),
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
  [['no_auth_user'], 'multi-user authorization is not built'],
  [['lame_duck_duration', 'lame_duck_grace_period'], 'lame duck mode is not built'],
  [['max_subscriptions', 'max_subs'], 'a per-connection subscription limit is not built'],
  [['max_closed_clients'], 'closed-connection history is not built'],
  [['disable_sublist_cache', 'no_sublist_cache'], 'the subject match cache cannot be turned off'],
  [['http_base_path'], 'monitoring under a base path is not built'],
  [['connect_error_reports', 'reconnect_error_reports'], 'report throttling is not built'],
  [['server_tags'], 'server tags are not built'],
  [['ocsp', 'ocsp_cache'], 'OCSP stapling needs TLS, which is not built yet'],
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
