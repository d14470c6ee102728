// Proves AckWait redelivery (flag and count), MaxInFlight flow control, manual acks, queue
// redelivery and a departing member's messages reaching the others, through node-nats-streaming.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeEachNatsKind, closeClient, collect, dataOf, publishMany, serverSubs, startHarness, subscribe, waitFor,
  type Harness, type StanClient, type StanMessage,
} from './harness.js';

describeEachNatsKind('%s: acks and flow control', (nats) => {
  let h: Harness;
  let client: StanClient;
  beforeAll(async () => {
    h = await startHarness({ nats });
    client = await h.connect('flow');
  });
  afterAll(async () => {
    await closeClient(client);
    await h.stop();
  });

  it('redelivers an unacked message after AckWait with the redelivered flag and count', async () => {
    await publishMany(client, 'redeliver', 1);
    const sub = client.subscribe('redeliver', client.subscriptionOptions().setDeliverAllAvailable()
      .setManualAckMode(true).setAckWait(1000));
    const msgs = await collect(sub, 3, 8000);
    expect(msgs.map((m) => m.getSequence())).toEqual([1, 1, 1]);
    expect(msgs.map((m) => m.isRedelivered())).toEqual([false, true, true]);
    expect(msgs.map((m) => m.getRedeliveryCount?.() ?? -1)).toEqual([0, 1, 2]);
    msgs[2]!.ack();
    sub.unsubscribe();
  });

  it('an acked message is not redelivered', async () => {
    await publishMany(client, 'acked', 1);
    const sub = client.subscribe('acked', client.subscriptionOptions().setDeliverAllAvailable()
      .setManualAckMode(true).setAckWait(1000));
    const got: StanMessage[] = [];
    const first = await new Promise<StanMessage>((resolve) => sub.on('message', (m: StanMessage) => {
      got.push(m);
      resolve(m);
    }));
    first.ack();
    // Once the server has processed the ack nothing is pending and no redelivery timer is armed.
    await waitFor(() => serverSubs(h, 'acked')[0]?.pending.size === 0, 5000, 'ack processed');
    expect(serverSubs(h, 'acked')[0]!.ackTimer).toBeUndefined();
    await publishMany(client, 'acked', 1, 'later');
    await waitFor(() => got.length >= 2, 5000, 'second message');
    expect(got.map((m) => [m.getSequence(), m.isRedelivered()])).toEqual([[1, false], [2, false]]);
    sub.unsubscribe();
  });

  it('MaxInFlight stops delivery until an ack frees a slot', async () => {
    await publishMany(client, 'inflight', 10);
    const got: StanMessage[] = [];
    let waiter: (() => void) | undefined;
    let want = 0;
    const sub = await subscribe(client, 'inflight', client.subscriptionOptions().setDeliverAllAvailable()
      .setManualAckMode(true).setMaxInFlight(3).setAckWait(30_000), undefined, (m) => {
      got.push(m);
      if (got.length >= want) waiter?.();
    });
    const until = (n: number): Promise<void> => {
      want = n;
      return got.length >= n ? Promise.resolve() : new Promise((resolve) => (waiter = resolve));
    };
    await until(3);
    // With three unacked messages nothing else may come: a round trip through the server
    // (a publish and its ack) proves the server had the chance to send more.
    await publishMany(client, 'inflight', 1, 'probe');
    expect(got.length).toBe(3);
    got[0]!.ack();
    await until(4);
    expect(got.map((m) => m.getSequence())).toEqual([1, 2, 3, 4]);
    for (const m of got.slice(1)) m.ack();
    await until(7);
    expect(got.map((m) => m.getSequence())).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const m of got.slice(4)) m.ack();
    await until(10);
    for (const m of got.slice(7)) m.ack();
    await until(11);
    expect(dataOf(got).slice(-1)).toEqual(['probe1']);
    sub.unsubscribe();
  });

  it('redeliveries ignore MaxInFlight and keep sequence order', async () => {
    await publishMany(client, 'redeliver.order', 4);
    const sub = client.subscribe('redeliver.order', client.subscriptionOptions().setDeliverAllAvailable()
      .setManualAckMode(true).setMaxInFlight(4).setAckWait(1000));
    const msgs = await collect(sub, 8, 8000);
    expect(msgs.slice(4).map((m) => [m.getSequence(), m.isRedelivered()])).toEqual([
      [1, true], [2, true], [3, true], [4, true],
    ]);
    for (const m of msgs) m.ack();
    sub.unsubscribe();
  });
});

describe('queue redelivery', () => {
  it("a leaving member's unacked messages go to the remaining member", async () => {
    const h = await startHarness();
    try {
      const a = await h.connect('qr-a');
      const b = await h.connect('qr-b');
      const opts = (c: StanClient) => c.subscriptionOptions().setManualAckMode(true).setAckWait(30_000).setMaxInFlight(1);
      const sa = await subscribe(a, 'qr', opts(a), 'g');
      const sb = await subscribe(b, 'qr', opts(b), 'g');
      const gotA = collect(sa, 1);
      const gotB: StanMessage[] = [];
      let wake: (() => void) | undefined;
      sb.on('message', (m: StanMessage) => {
        gotB.push(m);
        wake?.();
      });
      await publishMany(a, 'qr', 2);
      const [held] = await gotA;
      await new Promise<void>((resolve) => (gotB.length >= 1 ? resolve() : (wake = resolve)));
      gotB[0]!.ack();
      // a leaves without acking: its message must reach b, flagged as redelivered.
      await closeClient(a);
      await new Promise<void>((resolve) => (gotB.length >= 2 ? resolve() : (wake = resolve)));
      expect(gotB[1]!.getSequence()).toBe(held!.getSequence());
      expect(gotB[1]!.isRedelivered()).toBe(true);
      gotB[1]!.ack();
      await closeClient(b);
    } finally {
      await h.stop();
    }
  });
});
