// The reference server's monitoring endpoints (docs/protocol.md §5) as pure functions of a
// StreamingMonitorView: /streaming/serverz, /storez, /clientsz, /channelsz, with the reference
// JSON field names, query parameters (subs=1, client=, channel=, offset, limit) and 404 texts.
// Mounted on the monitoring HTTP server by path.

import { RawResponse, type MonitorHandler } from '../http-server.js';
import {
  atoiOrZero,
  formatTime,
  formatUptime,
  offsetAndLimit,
  page,
  storeLimitsJson,
} from './format.js';
import type { MonitorChannel, MonitorClient, MonitorSubscription, StreamingMonitorView } from './view.js';

export const STREAMING_ROOT_PATH = '/streaming';
export const STREAMING_PATHS = {
  serverz: '/streaming/serverz',
  storez: '/streaming/storez',
  clientsz: '/streaming/clientsz',
  channelsz: '/streaming/channelsz',
} as const;

export interface Subscriptionz {
  client_id: string;
  inbox: string;
  ack_inbox: string;
  durable_name?: string;
  queue_name?: string;
  is_durable: boolean;
  is_offline: boolean;
  max_inflight: number;
  ack_wait: number;
  last_sent: number;
  pending_count: number;
  is_stalled: boolean;
}

export interface Clientz {
  id: string;
  hb_inbox: string;
  subs_count: number;
  subscriptions?: Record<string, Subscriptionz[]>;
}

export interface Channelz {
  name: string;
  msgs: number;
  bytes: number;
  first_seq: number;
  last_seq: number;
  subs_count: number;
  subscriptions?: Subscriptionz[];
}

function subscriptionz(sub: MonitorSubscription): Subscriptionz {
  return {
    client_id: sub.clientId,
    inbox: sub.inbox,
    ack_inbox: sub.ackInbox,
    ...(sub.durableName !== '' ? { durable_name: sub.durableName } : {}),
    ...(sub.queueName !== '' ? { queue_name: sub.queueName } : {}),
    is_durable: sub.isDurable,
    is_offline: sub.isOffline,
    max_inflight: sub.maxInFlight,
    ack_wait: sub.ackWaitSecs,
    last_sent: sub.lastSent,
    pending_count: sub.pendingCount,
    is_stalled: sub.isStalled,
  };
}

function clientz(client: MonitorClient, withSubs: boolean): Clientz {
  const byChannel = new Map<string, Subscriptionz[]>();
  let count = 0;
  for (const { channel, sub } of client.subscriptions()) {
    count++;
    if (!withSubs) continue;
    const list = byChannel.get(channel);
    if (list === undefined) byChannel.set(channel, [subscriptionz(sub)]);
    else list.push(subscriptionz(sub));
  }
  const json: Clientz = { id: client.id, hb_inbox: client.hbInbox, subs_count: count };
  // fromEntries defines own properties, so a channel named `__proto__` stays a plain key.
  if (byChannel.size > 0) json.subscriptions = Object.fromEntries(byChannel);
  return json;
}

function channelz(channel: MonitorChannel, withSubs: boolean): Channelz {
  const subs = [...channel.subscriptions()];
  const json: Channelz = {
    name: channel.name,
    msgs: channel.msgs,
    bytes: channel.bytes,
    first_seq: channel.firstSeq,
    last_seq: channel.lastSeq,
    subs_count: subs.length,
  };
  if (withSubs && subs.length > 0) json.subscriptions = subs.map(subscriptionz);
  return json;
}

function notFound(text: string): RawResponse {
  return new RawResponse('text/plain; charset=utf-8', `${text}\n`, 404);
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function serverz(view: StreamingMonitorView): Record<string, unknown> {
  const now = view.nowMs();
  const totals = view.storeTotals();
  const traffic = view.traffic();
  const json: Record<string, unknown> = {
    cluster_id: view.clusterId,
    server_id: view.serverId,
    version: view.version,
    go: view.runtimeVersion,
    state: view.state(),
  };
  const role = view.role();
  if (role !== undefined && role !== '') json['role'] = role;
  const nodeId = view.nodeId();
  if (nodeId !== undefined && nodeId !== '') json['node_id'] = nodeId;
  Object.assign(json, {
    now: formatTime(now),
    start_time: formatTime(view.startTimeMs),
    uptime: formatUptime(now - view.startTimeMs),
    clients: [...view.clients()].length,
    subscriptions: view.subscriptionCount(),
    channels: [...view.channels()].length,
    total_msgs: totals.msgs,
    total_bytes: totals.bytes,
    in_msgs: traffic.inMsgs,
    in_bytes: traffic.inBytes,
    out_msgs: traffic.outMsgs,
    out_bytes: traffic.outBytes,
  });
  const fds = view.fileDescriptors();
  if (fds !== undefined && fds.open !== 0) json['open_fds'] = fds.open;
  if (fds !== undefined && fds.max !== 0) json['max_fds'] = fds.max;
  return json;
}

export function storez(view: StreamingMonitorView): Record<string, unknown> {
  const totals = view.storeTotals();
  return {
    cluster_id: view.clusterId,
    server_id: view.serverId,
    now: formatTime(view.nowMs()),
    type: view.storeType(),
    limits: storeLimitsJson(view.storeLimits()),
    total_msgs: totals.msgs,
    total_bytes: totals.bytes,
  };
}

export function clientsz(view: StreamingMonitorView, query: URLSearchParams): unknown {
  const withSubs = atoiOrZero(query.get('subs')) === 1;
  const single = query.get('client');
  if (single !== null && single !== '') {
    const client = view.client(single);
    return client === undefined ? notFound(`Client ${single} not found`) : clientz(client, withSubs);
  }
  const { offset, limit } = offsetAndLimit(query);
  const all = [...view.clients()].sort((a, b) => byName(a.id, b.id));
  const clients = page(all, offset, limit).map((c) => clientz(c, withSubs));
  return {
    cluster_id: view.clusterId,
    server_id: view.serverId,
    now: formatTime(view.nowMs()),
    offset,
    limit,
    count: clients.length,
    total: all.length,
    clients,
  };
}

export function channelsz(view: StreamingMonitorView, query: URLSearchParams): unknown {
  const withSubs = atoiOrZero(query.get('subs')) === 1;
  const single = query.get('channel');
  if (single !== null && single !== '') {
    const channel = view.channel(single);
    return channel === undefined ? notFound(`Channel ${single} not found`) : channelz(channel, withSubs);
  }
  const { offset, limit } = offsetAndLimit(query);
  const all = [...view.channels()].sort((a, b) => byName(a.name, b.name));
  const selected = page(all, offset, limit);
  const json: Record<string, unknown> = {
    cluster_id: view.clusterId,
    server_id: view.serverId,
    now: formatTime(view.nowMs()),
    offset,
    limit,
    count: selected.length,
    total: all.length,
  };
  // As in the reference, an empty list is omitted (Go's omitempty).
  if (withSubs) {
    if (selected.length > 0) json['channels'] = selected.map((c) => channelz(c, true));
  } else if (selected.length > 0) {
    json['names'] = selected.map((c) => c.name);
  }
  return json;
}

function rootPage(): RawResponse {
  const links = Object.entries(STREAMING_PATHS)
    .map(([name, path]) => `    <a href="${path}">${name.replace(/z$/, '')}</a><br/>`)
    .join('\n');
  return new RawResponse('text/html; charset=utf-8', `<html lang="en">\n  <body>\n${links}\n  </body>\n</html>\n`);
}

/** The handlers by path, to register on the monitoring HTTP server. */
export function streamingHandlers(view: StreamingMonitorView): Map<string, MonitorHandler> {
  return new Map<string, MonitorHandler>([
    [STREAMING_ROOT_PATH, () => rootPage()],
    [STREAMING_PATHS.serverz, () => serverz(view)],
    [STREAMING_PATHS.storez, () => storez(view)],
    [STREAMING_PATHS.clientsz, (query) => clientsz(view, query)],
    [STREAMING_PATHS.channelsz, (query) => channelsz(view, query)],
  ]);
}
