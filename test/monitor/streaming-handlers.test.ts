// Proves the /streaming/*z handlers render a fake StreamingMonitorView with the reference JSON
// field names and order, query parameters (subs, client, channel, offset, limit), Go-style lenient
// parsing of bad parameters, and 404 texts for unknown clients and channels.
import { afterEach, describe, expect, it } from 'vitest';
import { MonitorHttpServer, RawResponse } from '../../src/monitor/http-server.js';
import { silentLogger } from '../../src/util/logger.js';
import { STREAMING_PATHS, streamingHandlers } from '../../src/monitor/streaming/handlers.js';
import { formatUptime } from '../../src/monitor/streaming/format.js';
import { readFileDescriptors } from '../../src/monitor/streaming/fds.js';
import type {
  MonitorChannel,
  MonitorClient,
  MonitorSubscription,
  StreamingMonitorView,
} from '../../src/monitor/streaming/view.js';
import { defaultStoreLimits } from '../../src/store/limits.js';

const START_MS = Date.UTC(2024, 0, 1, 0, 0, 0);
const NOW_MS = START_MS + ((26 * 60 + 3) * 60 + 4) * 1000; // 1d2h3m4s later

function subscription(fields: Partial<MonitorSubscription>): MonitorSubscription {
  return {
    clientId: 'alice', inbox: '_INBOX.d', ackInbox: '_INBOX.a', durableName: '', queueName: '',
    isDurable: false, isOffline: false, maxInFlight: 1024, ackWaitSecs: 30, lastSent: 0,
    pendingCount: 0, isStalled: false, ...fields,
  };
}

function fakeView(): StreamingMonitorView {
  const plain = subscription({ lastSent: 5, pendingCount: 2 });
  const durable = subscription({ durableName: 'dur', isDurable: true, isStalled: true });
  const offline = subscription({ clientId: 'gone', durableName: 'old', isDurable: true, isOffline: true });
  const queue = subscription({ clientId: 'bob', queueName: 'dq:workers', isDurable: true });
  const channels: MonitorChannel[] = [
    { name: 'orders', msgs: 10, bytes: 1000, firstSeq: 1, lastSeq: 10, subscriptions: () => [plain, durable, offline] },
    { name: 'audit', msgs: 0, bytes: 0, firstSeq: 0, lastSeq: 0, subscriptions: () => [] },
    { name: '__proto__', msgs: 1, bytes: 50, firstSeq: 3, lastSeq: 3, subscriptions: () => [queue] },
  ];
  const clients: MonitorClient[] = [
    { id: 'bob', hbInbox: '_INBOX.hb.bob', subscriptions: () => [{ channel: '__proto__', sub: queue }] },
    {
      id: 'alice',
      hbInbox: '_INBOX.hb.alice',
      subscriptions: () => [{ channel: 'orders', sub: plain }, { channel: 'orders', sub: durable }],
    },
  ];
  const limits = defaultStoreLimits();
  return {
    clusterId: 'test-cluster',
    serverId: 'SRV1',
    version: '0.1.0',
    runtimeVersion: 'node v20.0.0',
    startTimeMs: START_MS,
    nowMs: () => NOW_MS,
    state: () => 'STANDALONE',
    role: () => undefined,
    nodeId: () => undefined,
    traffic: () => ({ inMsgs: 11, inBytes: 1050, outMsgs: 20, outBytes: 2000 }),
    fileDescriptors: () => ({ open: 12, max: 1024 }),
    storeType: () => 'MEMORY',
    storeLimits: () => ({
      ...limits,
      global: { ...limits.global, maxAgeMs: 1500 },
      perChannel: new Map([['orders.*', { ...limits.global, maxMsgs: 5, maxInactivityMs: 2000 }]]),
    }),
    storeTotals: () => ({ msgs: 11, bytes: 1050 }),
    clients: () => clients,
    client: (id) => clients.find((c) => c.id === id),
    channels: () => channels,
    channel: (name) => channels.find((c) => c.name === name),
    subscriptionCount: () => 4,
  };
}

function call(path: string, query = ''): unknown {
  const handler = streamingHandlers(fakeView()).get(path);
  expect(handler, path).toBeDefined();
  return JSON.parse(JSON.stringify(handler!(new URLSearchParams(query))));
}

describe('/streaming/serverz', () => {
  it('has the reference fields in order, omitting empty role and node_id', () => {
    const json = call(STREAMING_PATHS.serverz) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual([
      'cluster_id', 'server_id', 'version', 'go', 'state', 'now', 'start_time', 'uptime', 'clients',
      'subscriptions', 'channels', 'total_msgs', 'total_bytes', 'in_msgs', 'in_bytes', 'out_msgs',
      'out_bytes', 'open_fds', 'max_fds',
    ]);
    expect(json).toMatchObject({
      cluster_id: 'test-cluster', state: 'STANDALONE', uptime: '1d2h3m4s', clients: 2, channels: 3,
      subscriptions: 4, total_msgs: 11, in_bytes: 1050, out_msgs: 20, start_time: '2024-01-01T00:00:00.000Z',
    });
  });

  it('shows role and node_id when clustered', () => {
    const view = { ...fakeView(), role: () => 'Leader', nodeId: () => 'a', state: () => 'CLUSTERED' as const };
    const json = streamingHandlers(view).get(STREAMING_PATHS.serverz)!(new URLSearchParams()) as Record<string, unknown>;
    expect(json).toMatchObject({ state: 'CLUSTERED', role: 'Leader', node_id: 'a' });
  });

  it('formats uptime like the reference', () => {
    expect(formatUptime(0)).toBe('0s');
    expect(formatUptime(61_000)).toBe('1m1s');
    expect(formatUptime(3_600_000)).toBe('1h0m0s');
    expect(formatUptime(366 * 86_400_000)).toBe('1y1d0h0m0s');
  });
});

describe('/streaming/storez', () => {
  it('reports the store type and limits with Go JSON keys, durations in ns', () => {
    expect(call(STREAMING_PATHS.storez)).toEqual({
      cluster_id: 'test-cluster', server_id: 'SRV1', now: new Date(NOW_MS).toISOString(), type: 'MEMORY',
      limits: {
        max_channels: 100, max_msgs: 1_000_000, max_bytes: 1_024_000_000, max_age: 1_500_000_000,
        max_subscriptions: 1000, max_inactivity: 0,
        channels: {
          'orders.*': { max_msgs: 5, max_bytes: 1_024_000_000, max_age: 0, max_subscriptions: 1000, max_inactivity: 2_000_000_000 },
        },
      },
      total_msgs: 11, total_bytes: 1050,
    });
  });
});

describe('/streaming/clientsz', () => {
  it('lists clients sorted by id with subs_count and no subscriptions by default', () => {
    const json = call(STREAMING_PATHS.clientsz) as Record<string, unknown>;
    expect(json).toMatchObject({ offset: 0, limit: 1024, count: 2, total: 2 });
    expect(json['clients']).toEqual([
      { id: 'alice', hb_inbox: '_INBOX.hb.alice', subs_count: 2 },
      { id: 'bob', hb_inbox: '_INBOX.hb.bob', subs_count: 1 },
    ]);
  });

  it('with subs=1 maps channel to Subscriptionz with the reference fields', () => {
    const json = call(STREAMING_PATHS.clientsz, 'subs=1&client=alice');
    expect(json).toEqual({
      id: 'alice', hb_inbox: '_INBOX.hb.alice', subs_count: 2,
      subscriptions: {
        orders: [
          { client_id: 'alice', inbox: '_INBOX.d', ack_inbox: '_INBOX.a', is_durable: false, is_offline: false,
            max_inflight: 1024, ack_wait: 30, last_sent: 5, pending_count: 2, is_stalled: false },
          { client_id: 'alice', inbox: '_INBOX.d', ack_inbox: '_INBOX.a', durable_name: 'dur', is_durable: true,
            is_offline: false, max_inflight: 1024, ack_wait: 30, last_sent: 0, pending_count: 0, is_stalled: true },
        ],
      },
    });
    const bob = call(STREAMING_PATHS.clientsz, 'subs=1&client=bob') as { subscriptions: Record<string, unknown[]> };
    expect(Object.keys(bob.subscriptions)).toEqual(['__proto__']);
    expect(bob.subscriptions['__proto__']).toHaveLength(1);
  });

  it('pages with offset and limit, and clamps beyond the end', () => {
    expect(call(STREAMING_PATHS.clientsz, 'offset=1&limit=1')).toMatchObject({ offset: 1, limit: 1, count: 1, total: 2, clients: [{ id: 'bob' }] });
    expect(call(STREAMING_PATHS.clientsz, 'offset=5')).toMatchObject({ offset: 5, count: 0, clients: [] });
  });

  it('treats malformed parameters as the reference does (0, default limit)', () => {
    expect(call(STREAMING_PATHS.clientsz, 'offset=-3&limit=abc&subs=yes')).toMatchObject({ offset: 0, limit: 1024, count: 2 });
    expect(call(STREAMING_PATHS.clientsz, 'offset=1e3&limit=99999999999999999999')).toMatchObject({ offset: 0, limit: 1024 });
  });

  it('answers 404 for an unknown client', () => {
    const result = streamingHandlers(fakeView()).get(STREAMING_PATHS.clientsz)!(new URLSearchParams('client=zed'));
    expect(result).toBeInstanceOf(RawResponse);
    expect((result as RawResponse).status).toBe(404);
    expect((result as RawResponse).body).toBe('Client zed not found\n');
  });
});

describe('/streaming/channelsz', () => {
  it('lists sorted names by default', () => {
    expect(call(STREAMING_PATHS.channelsz)).toEqual({
      cluster_id: 'test-cluster', server_id: 'SRV1', now: new Date(NOW_MS).toISOString(),
      offset: 0, limit: 1024, count: 3, total: 3, names: ['__proto__', 'audit', 'orders'],
    });
  });

  it('with subs=1 lists Channelz with subscriptions, offline durables included', () => {
    const json = call(STREAMING_PATHS.channelsz, 'subs=1&offset=2') as { channels: Array<Record<string, unknown>> };
    expect(json).toMatchObject({ offset: 2, count: 1, total: 3 });
    expect(json.channels).toHaveLength(1);
    const orders = json.channels[0]!;
    expect(Object.keys(orders)).toEqual(['name', 'msgs', 'bytes', 'first_seq', 'last_seq', 'subs_count', 'subscriptions']);
    expect(orders).toMatchObject({ name: 'orders', msgs: 10, bytes: 1000, first_seq: 1, last_seq: 10, subs_count: 3 });
    expect(orders['subscriptions']).toContainEqual(expect.objectContaining({ client_id: 'gone', is_offline: true, durable_name: 'old' }));
  });

  it('returns one channel, without subscriptions unless subs=1', () => {
    expect(call(STREAMING_PATHS.channelsz, 'channel=audit')).toEqual({
      name: 'audit', msgs: 0, bytes: 0, first_seq: 0, last_seq: 0, subs_count: 0,
    });
    expect(call(STREAMING_PATHS.channelsz, 'channel=__proto__&subs=1')).toMatchObject({
      subscriptions: [expect.objectContaining({ queue_name: 'dq:workers', client_id: 'bob' })],
    });
    const missing = streamingHandlers(fakeView()).get(STREAMING_PATHS.channelsz)!(new URLSearchParams('channel=nope'));
    expect((missing as RawResponse).status).toBe(404);
    expect((missing as RawResponse).body).toBe('Channel nope not found\n');
  });

  it('omits names when the page is empty', () => {
    const json = call(STREAMING_PATHS.channelsz, 'offset=10') as Record<string, unknown>;
    expect(json['count']).toBe(0);
    expect('names' in json).toBe(false);
  });
});

describe('root and helpers', () => {
  it('serves an index linking every endpoint', () => {
    const root = streamingHandlers(fakeView()).get('/streaming')!(new URLSearchParams()) as RawResponse;
    for (const path of Object.values(STREAMING_PATHS)) expect(root.body).toContain(path);
  });

  it('reads file descriptors from procfs, or nothing where it is absent', () => {
    const fds = readFileDescriptors();
    if (process.platform === 'linux') {
      expect(fds!.open).toBeGreaterThan(0);
      expect(fds!.max).toBeGreaterThanOrEqual(fds!.open);
    }
    expect(readFileDescriptors('/nonexistent/proc')).toBeUndefined();
  });
});

describe('mounted on the monitoring HTTP server', () => {
  let server: MonitorHttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves indented JSON and 404 texts over a real socket', async () => {
    server = new MonitorHttpServer(silentLogger());
    for (const [path, handler] of streamingHandlers(fakeView())) server.route(path, handler);
    const port = await server.listen('127.0.0.1', 0);
    const base = `http://127.0.0.1:${port}`;
    const ok = await fetch(`${base}/streaming/channelsz?subs=1&channel=orders`);
    expect(ok.status).toBe(200);
    const text = await ok.text();
    expect(text).toContain('\n  "name": "orders"');
    expect(JSON.parse(text)).toMatchObject({ name: 'orders', subs_count: 3 });
    const missing = await fetch(`${base}/streaming/clientsz?client=nobody`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('Client nobody not found\n');
    const weird = await fetch(`${base}/streaming/clientsz?offset=%ZZ&limit=-1`);
    expect(weird.status).toBe(200);
  });
});
