// Proves connect handling: client ID validation, the duplicate client ID probe (live old client
// keeps its ID, dead one is replaced), the replaced connection's publishes and pings rejected,
// heartbeats dropping a dead client, close requests, and the start-up probe for another server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StanServer } from '../../src/server/server.js';
import { openMemoryStore } from '../../src/store/memory/memory-store.js';
import { defaultStoreLimits } from '../../src/store/limits.js';
import { silentLogger } from '../../src/util/logger.js';
import { describeEachNatsKind, closeClient, collect, publishMany, startHarness, waitFor, type Harness } from './harness.js';
import { pubMsg, rawClient, rawConnect, type RawClient } from './raw.js';

describeEachNatsKind('%s: connect', (nats) => {
  let h: Harness;
  let raw: RawClient;
  beforeAll(async () => {
    h = await startHarness({ nats, server: { hbIntervalMs: 100, hbTimeoutMs: 100, hbFailCount: 2 } });
    raw = await rawClient(h.url);
  });
  afterAll(async () => {
    await raw.close();
    await h.stop();
  });

  it('rejects an invalid client ID with the reference text', async () => {
    expect(await h.connectError('bad.id')).toBe(
      'stan: invalid clientID: only alphanumeric and `-` or `_` characters allowed',
    );
  });

  it('rejects a connect request without heartbeat inbox', async () => {
    const payload = raw.codec.encode('ConnectRequest', { clientID: 'nohb' });
    const res = await raw.request('_STAN.discover.test-cluster', payload, 'ConnectResponse');
    expect(res.error).toBe('stan: invalid connection request');
  });

  it('echoes the ping settings and answers protocol 1', async () => {
    const res = await rawConnect(raw, 'test-cluster', 'echo', 'conn-echo', true);
    expect(res).toMatchObject({ error: '', pingRequests: '_STAN.discover.test-cluster.pings', pingInterval: 1, pingMaxOut: 3, protocol: 1 });
  });

  it('keeps the client ID of a live client', async () => {
    const first = await h.connect('taken');
    expect(await h.connectError('taken')).toBe('stan: clientID already registered');
    // The first client is unaffected.
    await publishMany(first, 'still.alive', 1);
    await closeClient(first);
  });

  it('replaces a dead client; the old connection can no longer publish or ping', async () => {
    const old = await rawConnect(raw, 'test-cluster', 'phoenix', 'old-conn');
    expect(old.error).toBe('');
    const fresh = await h.connect('phoenix');
    const ack = await raw.request(
      `${old.pubPrefix}.ch`, pubMsg(raw, 'phoenix', 'old-conn', 'ch', 'x'), 'PubAck',
    );
    expect(ack.error).toBe('stan: invalid publish request');
    const ping = await raw.request(
      old.pingRequests, raw.codec.encode('Ping', { connID: Buffer.from('old-conn') }), 'PingResponse',
    );
    expect(ping.error).toBe('client has been replaced or is no longer registered');
    await publishMany(fresh, 'ch', 1);
    await closeClient(fresh);
  });

  it('drops a client that misses hb_fail_count heartbeats and keeps a live one', async () => {
    const live = await h.connect('live-one');
    const dead = await rawConnect(raw, 'test-cluster', 'dead-one', 'dead-conn');
    expect(dead.error).toBe('');
    expect(h.server.context!.clients.has('dead-one')).toBe(true);
    await waitFor(() => !h.server.context!.clients.has('dead-one'), 5000, 'dead client dropped');
    expect(h.server.context!.clients.get('live-one')?.hbFailed).toBe(0);
    await publishMany(live, 'live.ch', 1);
    await closeClient(live);
  });

  it('answers close requests, and unknown client IDs with the reference text', async () => {
    const c = await rawConnect(raw, 'test-cluster', 'closer', 'closer-conn', true);
    const ok = await raw.request(c.closeRequests, raw.codec.encode('CloseRequest', { clientID: 'closer' }), 'CloseResponse');
    expect(ok.error).toBe('');
    expect(h.server.context!.clients.has('closer')).toBe(false);
    const again = await raw.request(c.closeRequests, raw.codec.encode('CloseRequest', { clientID: 'closer' }), 'CloseResponse');
    expect(again.error).toBe('stan: unknown clientID');
  });

  it('closing a client removes its plain subscriptions', async () => {
    const c = await h.connect('with-subs');
    const sub = c.subscribe('plain.gone', c.subscriptionOptions().setDeliverAllAvailable());
    const got = collect(sub, 1);
    await publishMany(c, 'plain.gone', 1);
    await got;
    expect(h.server.context!.channels.get('plain.gone')!.subs.size).toBe(1);
    await closeClient(c);
    expect(h.server.context!.channels.get('plain.gone')!.subs.size).toBe(0);
  });
});

describe('start-up probe', () => {
  it('refuses to start beside another server with the same cluster ID, and starts with another ID', async () => {
    const h = await startHarness();
    const logger = silentLogger();
    const newStore = () => (settings: { clock: { nowNs(): bigint }; ageExpiry: 'caller' }) => openMemoryStore({ limits: defaultStoreLimits(), ...settings, logger });
    try {
      const twin = new StanServer(h.connector, newStore(), { clusterId: 'test-cluster' }, logger);
      await expect(twin.start()).rejects.toThrow('discovered another streaming server with cluster ID "test-cluster"');
      // The probe's own client registration was cleaned up on the running server.
      await waitFor(() => !h.server.context!.clients.has('test-cluster'), 2000, 'probe client closed');
      const other = new StanServer(h.connector, newStore(), { clusterId: 'other-cluster' }, logger);
      await other.start();
      await other.shutdown();
    } finally {
      await h.stop();
    }
  });
});
