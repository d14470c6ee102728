// Proves the server's monitoring view feeds /streaming/serverz, storez, clientsz and channelsz
// with live state, fetched over HTTP from the embedded server's monitoring port.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeClient, collect, publishMany, startHarness, subscribe, type Harness, type StanClient } from './harness.js';

describe('/streaming monitoring', () => {
  let h: Harness;
  let client: StanClient;
  const get = async (path: string): Promise<Record<string, unknown>> => {
    const res = await fetch(`http://127.0.0.1:${h.httpPort}${path}`);
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  };

  beforeAll(async () => {
    h = await startHarness({ monitor: true });
    client = await h.connect('watched');
    await publishMany(client, 'mon.a', 3);
    const sub = client.subscribe('mon.a', client.subscriptionOptions().setDurableName('d').setDeliverAllAvailable());
    await collect(sub, 3);
    await subscribe(client, 'mon.a', client.subscriptionOptions(), 'workers');
  });
  afterAll(async () => {
    await closeClient(client);
    await h.stop();
  });

  it('serverz reports the cluster, counts and traffic', async () => {
    const body = await get('/streaming/serverz');
    expect(body).toMatchObject({ cluster_id: 'test-cluster', state: 'STANDALONE', clients: 1, channels: 1, subscriptions: 2, total_msgs: 3 });
    expect(body['in_msgs']).toBe(3);
    expect(body['out_msgs']).toBe(3);
  });

  it('storez reports the MEMORY store and its limits', async () => {
    const body = await get('/streaming/storez');
    expect(body).toMatchObject({ type: 'MEMORY', total_msgs: 3 });
  });

  it('clientsz lists the client with its subscriptions', async () => {
    const body = await get('/streaming/clientsz?subs=1');
    const clients = body['clients'] as Array<Record<string, unknown>>;
    expect(clients.map((c) => c['id'])).toEqual(['watched']);
    expect(clients[0]!['subs_count']).toBe(2);
  });

  it('channelsz lists channel state and subscriptions', async () => {
    const body = await get('/streaming/channelsz?channel=mon.a&subs=1');
    expect(body).toMatchObject({ name: 'mon.a', msgs: 3, first_seq: 1, last_seq: 3 });
    const subs = body['subscriptions'] as Array<Record<string, unknown>>;
    expect(subs.map((s) => s['durable_name'] ?? s['queue_name']).sort()).toEqual(['d', 'workers']);
    expect(subs.find((s) => s['durable_name'] === 'd')).toMatchObject({ last_sent: 3, is_durable: true, pending_count: 0 });
  });
});
