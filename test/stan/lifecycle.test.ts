// Proves unsubscribe/close request handling (by ack inbox and by delivery inbox, with the
// reference errors), a queue message redelivered to another member after AckWait, a client
// closed on the server learning it through its pings, and graceful shutdown answering what was
// accepted before it stopped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeEachNatsKind, closeClient, collect, publish, publishMany, serverSubs, startHarness, subscribe, waitFor,
  type Harness, type StanClient, type StanMessage,
} from './harness.js';
import { rawClient, type RawClient } from './raw.js';

describeEachNatsKind('%s: unsubscribe and close requests', (nats) => {
  let h: Harness;
  let client: StanClient;
  let raw: RawClient;
  beforeAll(async () => {
    h = await startHarness({ nats });
    client = await h.connect('unsubber');
    raw = await rawClient(h.url);
  });
  afterAll(async () => {
    await closeClient(client);
    await raw.close();
    await h.stop();
  });

  const request = (subject: string, fields: Record<string, unknown>) =>
    raw.request(subject, raw.codec.encode('UnsubscribeRequest', fields), 'SubscriptionResponse');

  it('finds a subscription by its delivery inbox (a timed-out subscribe closes that way)', async () => {
    const sub = await subscribe(client, 'by.inbox', client.subscriptionOptions());
    const inbox = (sub as unknown as { inbox: string }).inbox;
    expect(serverSubs(h, 'by.inbox').length).toBe(1);
    const res = await request('_STAN.subclose.test-cluster', { clientID: 'unsubber', subject: 'by.inbox', inbox });
    expect(res.error).toBe('');
    expect(serverSubs(h, 'by.inbox').length).toBe(0);
  });

  it('answers unknown channel, unknown subscription and foreign client with the reference errors', async () => {
    const sub = await subscribe(client, 'owned', client.subscriptionOptions());
    const ackInbox = sub.ackInbox!;
    expect((await request('_STAN.unsub.test-cluster', { clientID: 'unsubber', subject: 'nope', inbox: ackInbox })).error)
      .toBe('stan: unknown channel');
    expect((await request('_STAN.unsub.test-cluster', { clientID: 'unsubber', subject: 'owned', inbox: '_INBOX.none' })).error)
      .toBe('stan: invalid subscription');
    expect((await request('_STAN.unsub.test-cluster', { clientID: 'someone-else', subject: 'owned', inbox: ackInbox })).error)
      .toBe('stan: unknown clientID');
    expect(serverSubs(h, 'owned').length).toBe(1);
    expect((await request('_STAN.unsub.test-cluster', { clientID: 'unsubber', subject: 'owned', inbox: ackInbox })).error).toBe('');
    expect(serverSubs(h, 'owned').length).toBe(0);
  });
});

describe('queue redelivery after AckWait', () => {
  it('an unacked queue message is redelivered, possibly to another member, flagged', async () => {
    const h = await startHarness();
    try {
      const a = await h.connect('qa');
      const b = await h.connect('qb');
      const seen: Array<[string, number, boolean]> = [];
      const opts = (c: StanClient) => c.subscriptionOptions().setManualAckMode(true).setAckWait(1000);
      // a never acks; b acks everything.
      await subscribe(a, 'q.redeliver', opts(a), 'g', (m: StanMessage) => seen.push(['a', m.getSequence(), m.isRedelivered()]));
      await subscribe(b, 'q.redeliver', opts(b), 'g', (m: StanMessage) => {
        seen.push(['b', m.getSequence(), m.isRedelivered()]);
        m.ack();
      });
      await publishMany(a, 'q.redeliver', 2);
      // Whichever member got a message first, the one a held must come back redelivered.
      await waitFor(() => seen.some(([who, , again]) => who === 'b' && again) || seen.filter(([who]) => who === 'a').length >= 2, 8000, 'redelivery');
      const redelivered = seen.filter(([, , again]) => again);
      expect(redelivered.length).toBeGreaterThan(0);
      const firstToA = seen.find(([who, , again]) => who === 'a' && !again)!;
      expect(redelivered[0]![1]).toBe(firstToA[1]);
      await closeClient(a);
      await closeClient(b);
    } finally {
      await h.stop();
    }
  });
});

describe('pings', () => {
  it('a client closed on the server learns it from its next ping', async () => {
    const h = await startHarness();
    const raw = await rawClient(h.url);
    try {
      const client = await h.connect('pinger', { stanPingInterval: 1000, stanMaxPingOut: 3 });
      const lost = new Promise<string>((resolve) => client.on('connection_lost', (err: Error | string) => resolve(String(err))));
      const res = await raw.request('_STAN.close.test-cluster', raw.codec.encode('CloseRequest', { clientID: 'pinger' }), 'CloseResponse');
      expect(res.error).toBe('');
      expect(await lost).toContain('client has been replaced or is no longer registered');
    } finally {
      await raw.close();
      await h.stop();
    }
  });
});

describe('graceful shutdown', () => {
  it('acknowledges accepted publishes, then stops answering and closes the store', async () => {
    const h = await startHarness();
    const client = await h.connect('late');
    await publish(client, 'final', 'warm');
    const acks = [publish(client, 'final', 'a'), publish(client, 'final', 'b')];
    // Wait until the server has taken both publishes, then shut down at once.
    await waitFor(() => (h.server.context?.counters.msgsIn ?? 0) >= 3, 5000, 'publishes received');
    await h.server.shutdown();
    expect(await Promise.all(acks)).toHaveLength(2);
    expect(h.server.isRunning).toBe(false);
    expect(() => h.store.lookupChannel('final')).toThrow();
    // Nobody serves the protocol subjects any more (the NATS server itself is still up).
    const raw = await rawClient(h.url);
    await expect(raw.nc.request('_STAN.discover.test-cluster', new Uint8Array(0), { timeout: 1000 })).rejects.toThrow();
    await raw.close();
    client.nc.close();
    await h.stop();
  });
});
