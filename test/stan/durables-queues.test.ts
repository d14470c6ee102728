// Proves durable, queue and durable-queue semantics (resume, close vs unsubscribe, last member
// leaving, duplicate durables, replace_durable) with node-nats-streaming against the server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeEachNatsKind, closeClient, collect, dataOf, publishMany, startHarness, subscribe, waitFor,
  type Harness, type StanClient, type StanMessage, type StanSubscription,
} from './harness.js';

function closeSub(sub: StanSubscription, unsubscribe = false): Promise<void> {
  return new Promise((resolve, reject) => {
    sub.once(unsubscribe ? 'unsubscribed' : 'closed', () => resolve());
    sub.once('error', (err: Error) => reject(err));
    if (unsubscribe) sub.unsubscribe();
    else sub.close();
  });
}

function subError(client: StanClient, channel: string, opts: ReturnType<StanClient['subscriptionOptions']>, queue?: string): Promise<string> {
  const sub = queue === undefined ? client.subscribe(channel, opts) : client.subscribe(channel, queue, opts);
  return new Promise((resolve, reject) => {
    sub.once('ready', () => reject(new Error('subscription unexpectedly accepted')));
    sub.once('error', (err: Error) => resolve(err.message));
  });
}

describeEachNatsKind('%s: durables', (nats) => {
  let h: Harness;
  let client: StanClient;
  beforeAll(async () => {
    h = await startHarness({ nats });
    client = await h.connect('durables');
  });
  afterAll(async () => {
    await closeClient(client);
    await h.stop();
  });

  it('a closed durable resumes where it stopped, ignoring the new start position', async () => {
    const opts = () => client.subscriptionOptions().setDurableName('dur').setDeliverAllAvailable();
    await publishMany(client, 'dur.ch', 3);
    const first = client.subscribe('dur.ch', opts());
    expect(dataOf(await collect(first, 3))).toEqual(['m1', 'm2', 'm3']);
    await closeSub(first);
    await publishMany(client, 'dur.ch', 2, 'x');
    const resumed = client.subscribe('dur.ch', opts().setStartAtSequence(1));
    expect(dataOf(await collect(resumed, 2))).toEqual(['x1', 'x2']);
    await closeSub(resumed, true);
    // After unsubscribe the durable is gone: a new one starts from its own start position.
    const fresh = client.subscribe('dur.ch', opts());
    expect((await collect(fresh, 5)).length).toBe(5);
    await closeSub(fresh, true);
  });

  it('survives its client closing and is resumed by the same client ID', async () => {
    const c1 = await h.connect('dur-owner');
    const opts = (c: StanClient) => c.subscriptionOptions().setDurableName('keep').setDeliverAllAvailable();
    await publishMany(c1, 'dur.conn', 2);
    expect(dataOf(await collect(c1.subscribe('dur.conn', opts(c1)), 2))).toEqual(['m1', 'm2']);
    await closeClient(c1);
    await publishMany(client, 'dur.conn', 1, 'while-away');
    const c2 = await h.connect('dur-owner');
    expect(dataOf(await collect(c2.subscribe('dur.conn', opts(c2)), 1))).toEqual(['while-away1']);
    await closeClient(c2);
  });

  it('rejects a second online durable with the same key', async () => {
    const opts = () => client.subscriptionOptions().setDurableName('twice');
    await subscribe(client, 'dur.dup', opts());
    expect(await subError(client, 'dur.dup', opts())).toBe('stan: duplicate durable registration');
  });

  it('unacked messages of a durable are redelivered on resume', async () => {
    const opts = () => client.subscriptionOptions().setDurableName('unacked').setDeliverAllAvailable()
      .setManualAckMode(true).setAckWait(30_000);
    await publishMany(client, 'dur.unacked', 2);
    const first = client.subscribe('dur.unacked', opts());
    const msgs = await collect(first, 2);
    msgs[0]!.ack();
    await closeSub(first);
    const resumed = client.subscribe('dur.unacked', opts());
    const [again] = await collect(resumed, 1);
    expect(again!.getSequence()).toBe(2);
    expect(again!.isRedelivered()).toBe(true);
    again!.ack();
    await closeSub(resumed, true);
  });
});

describe('replace_durable', () => {
  it('a new durable with the key of an online one replaces it', async () => {
    const h = await startHarness({ server: { replaceDurable: true } });
    try {
      const client = await h.connect('replacer');
      const opts = () => client.subscriptionOptions().setDurableName('r').setDeliverAllAvailable();
      const old = await subscribe(client, 'rep', opts());
      const oldGot: StanMessage[] = [];
      old.on('message', (m: StanMessage) => oldGot.push(m));
      const replacement = await subscribe(client, 'rep', opts());
      const got = collect(replacement, 2);
      await publishMany(client, 'rep', 2);
      expect(dataOf(await got)).toEqual(['m1', 'm2']);
      expect(oldGot).toEqual([]);
      await closeClient(client);
    } finally {
      await h.stop();
    }
  });
});

describe('queue groups', () => {
  let h: Harness;
  let a: StanClient;
  let b: StanClient;
  beforeAll(async () => {
    h = await startHarness();
    a = await h.connect('queue-a');
    b = await h.connect('queue-b');
  });
  afterAll(async () => {
    await closeClient(a);
    await closeClient(b);
    await h.stop();
  });

  it('each message goes to exactly one member, spread over members', async () => {
    const seen: Array<[string, number]> = [];
    const s1 = await subscribe(a, 'q.work', a.subscriptionOptions(), 'workers');
    const s2 = await subscribe(b, 'q.work', b.subscriptionOptions(), 'workers');
    s1.on('message', (m: StanMessage) => seen.push(['a', m.getSequence()]));
    s2.on('message', (m: StanMessage) => seen.push(['b', m.getSequence()]));
    await publishMany(a, 'q.work', 20);
    await waitFor(() => seen.length >= 20, 5000, 'all 20 messages');
    expect(seen.map(([, s]) => s).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(seen.filter(([who]) => who === 'a').length).toBeGreaterThan(0);
    expect(seen.filter(([who]) => who === 'b').length).toBeGreaterThan(0);
    await closeSub(s1, true);
    await closeSub(s2, true);
  });

  it('a member joining an existing group continues at the group position', async () => {
    await publishMany(a, 'q.join', 3);
    const s1 = a.subscribe('q.join', 'g', a.subscriptionOptions().setDeliverAllAvailable());
    expect(dataOf(await collect(s1, 3))).toEqual(['m1', 'm2', 'm3']);
    const s2 = await subscribe(b, 'q.join', b.subscriptionOptions().setDeliverAllAvailable(), 'g');
    const extra: StanMessage[] = [];
    s2.on('message', (m: StanMessage) => extra.push(m));
    s1.on('message', (m: StanMessage) => extra.push(m));
    await publishMany(a, 'q.join', 1, 'new');
    await waitFor(() => extra.length >= 1, 5000, 'the new message');
    expect(dataOf(extra)).toEqual(['new1']);
    await closeSub(s1, true);
    await closeSub(s2, true);
  });

  it('a non-durable group disappears when its last member leaves', async () => {
    await publishMany(a, 'q.gone', 2);
    const s1 = a.subscribe('q.gone', 'g', a.subscriptionOptions().setDeliverAllAvailable());
    await collect(s1, 2);
    await closeSub(s1);
    const again = b.subscribe('q.gone', 'g', b.subscriptionOptions().setDeliverAllAvailable());
    expect(dataOf(await collect(again, 2))).toEqual(['m1', 'm2']);
    await closeSub(again, true);
  });
});

describe('durable queue groups', () => {
  let h: Harness;
  let a: StanClient;
  beforeAll(async () => {
    h = await startHarness();
    a = await h.connect('dq-a');
  });
  afterAll(async () => {
    await closeClient(a);
    await h.stop();
  });
  const opts = (c: StanClient, name = 'dq') => c.subscriptionOptions().setDurableName(name).setDeliverAllAvailable();

  it('the group survives its last member closing and resumes from another client', async () => {
    await publishMany(a, 'dq.ch', 2);
    const s1 = a.subscribe('dq.ch', 'grp', opts(a));
    expect(dataOf(await collect(s1, 2))).toEqual(['m1', 'm2']);
    await closeSub(s1);
    await publishMany(a, 'dq.ch', 2, 'x');
    const other = await h.connect('dq-b');
    const s2 = other.subscribe('dq.ch', 'grp', opts(other));
    expect(dataOf(await collect(s2, 2))).toEqual(['x1', 'x2']);
    await closeClient(other);
    // The other client's close also kept the group (close, not unsubscribe).
    await publishMany(a, 'dq.ch', 1, 'y');
    const s3 = a.subscribe('dq.ch', 'grp', opts(a));
    expect(dataOf(await collect(s3, 1))).toEqual(['y1']);
    await closeSub(s3, true);
  });

  it('the last member unsubscribing destroys the group', async () => {
    await publishMany(a, 'dq.destroy', 2);
    const s1 = a.subscribe('dq.destroy', 'grp', opts(a));
    await collect(s1, 2);
    await closeSub(s1, true);
    const s2 = a.subscribe('dq.destroy', 'grp', opts(a));
    expect(dataOf(await collect(s2, 2))).toEqual(['m1', 'm2']);
    await closeSub(s2, true);
  });

  it("rejects a durable queue name containing ':'", async () => {
    expect(await subError(a, 'dq.colon', opts(a, 'a:b'), 'grp')).toBe(
      "stan: durable name of a durable queue subscriber can't contain the character ':'",
    );
  });
});
