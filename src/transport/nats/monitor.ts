// nats-server's monitoring endpoints for what the embedded server has: /varz, /connz, /subsz
// and /healthz, with nats-server's JSON field names so existing dashboards read them.
import { cpus } from 'node:os';
import { MonitorRequestError, type MonitorHttpServer } from '../../monitor/http-server.js';
import type { EmbeddedNatsServer } from './server.js';
import type { ClientConnection } from './client-connection.js';
import type { LocalConnection } from './local-connection.js';
import { subjectMatches } from './subject.js';
import { redactUrlCredentials } from './url-credentials.js';

function goDuration(ms: number): string {
  let seconds = Math.floor(ms / 1000);
  const days = Math.floor(seconds / 86400);
  seconds -= days * 86400;
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  let text = '';
  if (days) text += `${days}d`;
  if (days || hours) text += `${hours}h`;
  if (days || hours || minutes) text += `${minutes}m`;
  return `${text}${seconds}s`;
}

function intParam(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new MonitorRequestError(`invalid ${name}: ${raw}`);
  return value;
}

function boolParam(query: URLSearchParams, name: string): boolean {
  const raw = query.get(name);
  return raw === '1' || raw === 'true';
}

export function varz(server: EmbeddedNatsServer): Record<string, unknown> {
  const now = new Date();
  const usage = process.cpuUsage();
  const uptimeMs = now.getTime() - server.startedAt.getTime();
  const { options, counters } = server;
  return {
    server_id: server.serverId,
    server_name: server.serverName,
    version: '2.9.0',
    proto: 1,
    go: `node${process.versions.node}`,
    host: options.host,
    port: server.port,
    auth_required: server.authRequired || undefined,
    tls_required: server.tlsRequired || undefined,
    tls_verify: options.tls?.verify === true || undefined,
    tls_timeout: (options.tls?.timeoutMs ?? 2_000) / 1000,
    max_connections: options.maxConnections,
    ping_interval: options.pingIntervalMs * 1e6,
    ping_max: options.pingsOutstandingMax,
    http_host: options.httpHost || options.host,
    http_port: options.httpsPort === 0 ? server.httpPort : 0,
    https_port: options.httpsPort === 0 ? 0 : server.httpPort,
    auth_timeout: options.authTimeoutMs / 1000,
    max_control_line: options.maxControlLineBytes,
    max_payload: options.maxPayloadBytes,
    max_pending: options.maxPendingBytes,
    write_deadline: options.writeDeadlineMs * 1e6,
    start: server.startedAt.toISOString(),
    now: now.toISOString(),
    uptime: goDuration(uptimeMs),
    mem: process.memoryUsage().rss,
    cores: cpus().length,
    cpu: uptimeMs > 0 ? Math.round(((usage.user + usage.system) / 1000 / uptimeMs) * 1000) / 10 : 0,
    connections: server.clients.size,
    total_connections: server.counters.totalConnections,
    cluster: server.routes.enabled ? clusterInfo(server) : {},
    connect_urls: server.connectUrls(),
    routes: server.routes.routes.size,
    remotes: server.routes.routes.size,
    in_msgs: counters.inMsgs,
    out_msgs: counters.outMsgs,
    in_bytes: counters.inBytes,
    out_bytes: counters.outBytes,
    slow_consumers: counters.slowConsumers,
    subscriptions: server.sublist.size,
  };
}

/** nats-server's `cluster` of /varz; route URLs without the credentials they may carry. */
function clusterInfo(server: EmbeddedNatsServer): Record<string, unknown> {
  const routes = server.routes;
  return {
    name: routes.name,
    addr: routes.options.listenHost || '0.0.0.0',
    cluster_port: routes.port,
    auth_timeout: routes.authRequired ? routes.options.authTimeoutMs / 1000 : undefined,
    urls: routes.options.routes.map(redactUrlCredentials),
    tls_timeout: routes.options.tls === null ? undefined : routes.options.tls.timeoutMs / 1000,
    tls_required: routes.tlsRequired || undefined,
    tls_verify: routes.options.tls?.verify === true || undefined,
  };
}

function clientInfo(client: ClientConnection, now: Date, withSubs: boolean, withAuth: boolean): Record<string, unknown> {
  const info: Record<string, unknown> = {
    cid: client.id,
    kind: 'Client',
    type: 'nats',
    ip: client.remoteAddress.replace(/^::ffff:/, ''),
    port: client.remotePort,
    start: client.startedAt.toISOString(),
    last_activity: new Date(client.lastActivityMs).toISOString(),
    uptime: goDuration(now.getTime() - client.startedAt.getTime()),
    idle: goDuration(now.getTime() - client.lastActivityMs),
    pending_bytes: client.pendingBytes,
    in_msgs: client.stats.inMsgs,
    out_msgs: client.stats.outMsgs,
    in_bytes: client.stats.inBytes,
    out_bytes: client.stats.outBytes,
    subscriptions: client.subscriptions.size,
    name: client.connect.name || undefined,
    lang: client.connect.lang || undefined,
    version: client.connect.version || undefined,
    tls_version: client.tlsVersion,
    tls_cipher_suite: client.tlsCipher,
  };
  if (withSubs) info['subscriptions_list'] = [...client.subscriptions.values()].map((s) => s.subject);
  if (withAuth && client.user !== '') info['authorized_user'] = client.user;
  return info;
}

function localInfo(connection: LocalConnection, now: Date): Record<string, unknown> {
  return {
    cid: connection.id,
    kind: 'Client',
    type: 'in-process',
    start: connection.startedAt.toISOString(),
    uptime: goDuration(now.getTime() - connection.startedAt.getTime()),
    in_msgs: connection.stats.inMsgs,
    out_msgs: connection.stats.outMsgs,
    in_bytes: connection.stats.inBytes,
    out_bytes: connection.stats.outBytes,
    subscriptions: connection.subscriptionCount,
    name: connection.name,
  };
}

export function connz(server: EmbeddedNatsServer, query: URLSearchParams): Record<string, unknown> {
  const now = new Date();
  const offset = intParam(query, 'offset', 0);
  const limit = intParam(query, 'limit', 1024);
  const withSubs = boolParam(query, 'subs');
  const withAuth = boolParam(query, 'auth');
  const cidFilter = query.get('cid');
  const all = [
    ...[...server.clients.values()].map((c) => clientInfo(c, now, withSubs, withAuth)),
    ...[...server.locals.values()].map((c) => localInfo(c, now)),
  ]
    .filter((c) => cidFilter === null || String(c['cid']) === cidFilter)
    .sort((a, b) => (a['cid'] as number) - (b['cid'] as number));
  const page = all.slice(offset, offset + limit);
  return {
    server_id: server.serverId,
    now: now.toISOString(),
    num_connections: page.length,
    total: all.length,
    offset,
    limit,
    connections: page,
  };
}

export function subsz(server: EmbeddedNatsServer, query: URLSearchParams): Record<string, unknown> {
  const stats = server.sublist.stats();
  const result: Record<string, unknown> = {
    server_id: server.serverId,
    now: new Date().toISOString(),
    num_subscriptions: stats.subscriptions,
    num_cache: stats.cacheEntries,
    num_inserts: stats.inserts,
    num_removes: stats.removes,
    num_matches: stats.matches,
    cache_hit_rate: stats.matches > 0 ? stats.cacheHits / stats.matches : 0,
    max_fanout: stats.maxFanout,
    avg_fanout: stats.matches > 0 ? stats.totalFanout / stats.matches : 0,
  };
  if (boolParam(query, 'subs')) {
    const offset = intParam(query, 'offset', 0);
    const limit = intParam(query, 'limit', 1024);
    const test = query.get('test');
    const subs = server.sublist
      .all()
      .filter((s) => test === null || subjectMatches(s.subject, test))
      .map((s) => ({ subject: s.subject, qgroup: s.queue || undefined, sid: s.sid, msgs: s.delivered, cid: s.target.id }));
    result['total'] = subs.length;
    result['offset'] = offset;
    result['limit'] = limit;
    result['subscriptions_list'] = subs.slice(offset, offset + limit);
  }
  return result;
}

export function routez(server: EmbeddedNatsServer, query: URLSearchParams): Record<string, unknown> {
  const withSubs = boolParam(query, 'subs');
  const routes = [...server.routes.routes.values()].map((route) => {
    const info: Record<string, unknown> = {
      rid: route.id,
      remote_id: route.info?.serverId ?? '',
      remote_name: route.info?.serverName ?? '',
      did_solicit: route.solicited,
      is_configured: route.explicit,
      ip: route.remoteAddress,
      port: route.remotePort,
      start: route.startedAt.toISOString(),
      in_msgs: route.stats.inMsgs,
      out_msgs: route.stats.outMsgs,
      in_bytes: route.stats.inBytes,
      out_bytes: route.stats.outBytes,
      subscriptions: route.remoteSubs.size,
    };
    if (withSubs) info['subscriptions_list'] = [...route.remoteSubs.keys()];
    return info;
  });
  return { server_id: server.serverId, now: new Date().toISOString(), num_routes: routes.length, routes };
}

export function registerNatsMonitorRoutes(monitor: MonitorHttpServer, server: EmbeddedNatsServer): void {
  monitor.route('/varz', () => varz(server));
  monitor.route('/connz', (query) => connz(server, query));
  monitor.route('/subsz', (query) => subsz(server, query));
  monitor.route('/subscriptionsz', (query) => subsz(server, query));
  monitor.route('/routez', (query) => routez(server, query));
  monitor.route('/healthz', () => ({ status: server.isRunning ? 'ok' : 'unavailable' }));
}
