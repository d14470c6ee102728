// Proves each of the five start positions delivers exactly the reference's messages, with
// node-nats-streaming over real sockets to the embedded NATS server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachNatsKind, closeClient, collect, dataOf, publishMany, startHarness, subscribe, type Harness, type StanClient } from './harness.js';

describeEachNatsKind('%s: start positions', (nats) => {
  let h: Harness;
  let client: StanClient;

  beforeAll(async () => {
    h = await startHarness({ nats });
    client = await h.connect('positions');
  });
  afterAll(async () => {
    await closeClient(client);
    await h.stop();
  });

  it('NewOnly delivers only messages published after the subscription', async () => {
    await publishMany(client, 'new.only', 3, 'old');
    const sub = await subscribe(client, 'new.only', client.subscriptionOptions());
    const got = collect(sub, 2);
    await publishMany(client, 'new.only', 2, 'new');
    const msgs = await got;
    expect(dataOf(msgs)).toEqual(['new1', 'new2']);
    expect(msgs.map((m) => m.getSequence())).toEqual([4, 5]);
    sub.unsubscribe();
  });

  it('LastReceived starts with the last stored message', async () => {
    await publishMany(client, 'last.recv', 3);
    const got = collect(client.subscribe('last.recv', client.subscriptionOptions().setStartWithLastReceived()), 2);
    await publishMany(client, 'last.recv', 1, 'after');
    expect(dataOf(await got)).toEqual(['m3', 'after1']);
  });

  it('LastReceived on an empty channel waits for the first message', async () => {
    const sub = await subscribe(client, 'last.empty', client.subscriptionOptions().setStartWithLastReceived());
    const got = collect(sub, 1);
    await publishMany(client, 'last.empty', 1);
    const msgs = await got;
    expect(msgs[0]!.getSequence()).toBe(1);
  });

  it('SequenceStart starts at the sequence, clamps below first and past last', async () => {
    await publishMany(client, 'by.seq', 5);
    const fromThree = await collect(client.subscribe('by.seq', client.subscriptionOptions().setStartAtSequence(3)), 3);
    expect(dataOf(fromThree)).toEqual(['m3', 'm4', 'm5']);
    const pastLast = await subscribe(client, 'by.seq', client.subscriptionOptions().setStartAtSequence(50));
    const got = collect(pastLast, 1);
    await publishMany(client, 'by.seq', 1, 'late');
    expect(dataOf(await got)).toEqual(['late1']);
  });

  it('First (deliver all available) delivers the whole channel in order', async () => {
    await publishMany(client, 'all.avail', 20);
    const msgs = await collect(client.subscribe('all.avail', client.subscriptionOptions().setDeliverAllAvailable()), 20);
    expect(msgs.map((m) => m.getSequence())).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(msgs.every((m) => !m.isRedelivered())).toBe(true);
  });

  it('TimeDeltaStart starts at the first message at or after now - delta', async () => {
    await publishMany(client, 'by.time', 2, 'before');
    // The boundary is a stored timestamp: wait until the clock has moved well past it. The server
    // takes "now" when the subscription arrives, later than the test computes the delta: the
    // margin keeps the start position between the two groups however long that takes (< 500 ms).
    const boundary = Date.now();
    await new Promise<void>((resolve) => {
      const tick = (): void => void (Date.now() > boundary + 500 ? resolve() : setTimeout(tick, 20));
      tick();
    });
    await publishMany(client, 'by.time', 2, 'after');
    const delta = Date.now() - boundary - 2;
    const msgs = await collect(client.subscribe('by.time', client.subscriptionOptions().setStartAtTimeDelta(delta)), 2);
    expect(dataOf(msgs)).toEqual(['after1', 'after2']);
    const all = await collect(client.subscribe('by.time', client.subscriptionOptions().setStartAtTimeDelta(60_000)), 4);
    expect(dataOf(all)).toEqual(['before1', 'before2', 'after1', 'after2']);
  });

  it('timestamps are nanoseconds since the epoch', async () => {
    const before = Date.now();
    await publishMany(client, 'stamp', 1);
    const [msg] = await collect(client.subscribe('stamp', client.subscriptionOptions().setDeliverAllAvailable()), 1);
    const ms = msg!.getTimestamp().getTime();
    expect(ms).toBeGreaterThanOrEqual(before - 1);
    expect(ms).toBeLessThanOrEqual(Date.now());
  });
});
