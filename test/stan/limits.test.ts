// Proves every channel limit with node-nats-streaming: max channels and subscriptions with the
// reference errors, max msgs/bytes/age dropping the oldest silently, per-channel overrides with
// wildcards, max inactivity deleting a channel; plus channel name validation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultChannelLimits, defaultStoreLimits, type ChannelLimits, type StoreLimits } from '../../src/store/limits.js';
import {
  closeClient, collect, dataOf, publish, publishMany, startHarness, subscribe, waitFor,
  type Harness, type StanClient,
} from './harness.js';

function limits(global: Partial<ChannelLimits>, maxChannels = 100, perChannel: Record<string, Partial<ChannelLimits>> = {}): StoreLimits {
  const zero: ChannelLimits = { maxSubscriptions: 0, maxMsgs: 0, maxBytes: 0, maxAgeMs: 0, maxInactivityMs: 0 };
  return {
    ...defaultStoreLimits(),
    maxChannels,
    global: { ...defaultChannelLimits(), ...global },
    perChannel: new Map(Object.entries(perChannel).map(([k, v]) => [k, { ...zero, ...v }])),
  };
}

function subError(client: StanClient, channel: string, opts = client.subscriptionOptions()): Promise<string> {
  const sub = client.subscribe(channel, opts);
  return new Promise((resolve, reject) => {
    sub.once('ready', () => reject(new Error('subscription unexpectedly accepted')));
    sub.once('error', (err: Error) => resolve(err.message));
  });
}

describe('limits', () => {
  let h: Harness;
  let client: StanClient;
  beforeAll(async () => {
    h = await startHarness({
      limits: limits({ maxSubscriptions: 2, maxMsgs: 5 }, 6, {
        'bytes.*': { maxBytes: 400 },
        'small.>': { maxMsgs: 2 },
        'small.big': { maxMsgs: -1 },
      }),
    });
    client = await h.connect('limits');
  });
  afterAll(async () => {
    await closeClient(client);
    await h.stop();
  });

  it('max_msgs drops the oldest messages without an error to the publisher', async () => {
    await publishMany(client, 'count', 8);
    const msgs = await collect(client.subscribe('count', client.subscriptionOptions().setDeliverAllAvailable()), 5);
    expect(dataOf(msgs)).toEqual(['m4', 'm5', 'm6', 'm7', 'm8']);
  });

  it('per-channel limits with wildcards and inheritance; negative means unlimited', async () => {
    await publishMany(client, 'small.one', 4);
    expect(h.store.lookupChannel('small.one')!.msgs.state().msgs).toBe(2);
    await publishMany(client, 'small.big', 7);
    expect(h.store.lookupChannel('small.big')!.msgs.state().msgs).toBe(7);
  });

  it('max_bytes keeps the newest messages within the byte budget', async () => {
    const payload = 'x'.repeat(100);
    for (let i = 0; i < 6; i++) await publish(client, 'bytes.ch', payload);
    const state = h.store.lookupChannel('bytes.ch')!.msgs.state();
    expect(state.bytes).toBeLessThanOrEqual(400);
    expect(state.msgs).toBe(3);
    expect(h.store.lookupChannel('bytes.ch')!.msgs.lastSequence()).toBe(6);
  });

  it('max_subs rejects one subscription too many per channel', async () => {
    await subscribe(client, 'subs.ch', client.subscriptionOptions());
    await subscribe(client, 'subs.ch', client.subscriptionOptions());
    expect(await subError(client, 'subs.ch')).toBe('too many subscriptions per channel');
  });

  it('max_channels rejects a new channel on publish and on subscribe', async () => {
    // Channels so far: count, small.one, small.big, bytes.ch, subs.ch -> one more is allowed.
    await publish(client, 'sixth', 'ok');
    await expect(publish(client, 'seventh', 'no')).rejects.toThrow('too many channels');
    expect(await subError(client, 'eighth')).toBe('too many channels');
    // Existing channels still work.
    await publish(client, 'sixth', 'still ok');
  });

  it('rejects invalid channel names on publish and subscribe', async () => {
    await expect(publish(client, 'bad..name', 'x')).rejects.toThrow('stan: invalid publish request');
    await expect(publish(client, 'bad.*', 'x')).rejects.toThrow('stan: invalid publish request');
    expect(await subError(client, 'bad.>')).toBe('stan: invalid subject');
  });
});

describe('age and inactivity', () => {
  let h: Harness;
  let client: StanClient;
  beforeAll(async () => {
    h = await startHarness({ limits: limits({}, 100, { 'aged': { maxAgeMs: 200 }, 'idle.*': { maxInactivityMs: 200 } }) });
    client = await h.connect('ageing');
  });
  afterAll(async () => {
    await closeClient(client);
    await h.stop();
  });

  it('max_age expires old messages; the channel keeps its sequence', async () => {
    await publishMany(client, 'aged', 3);
    await waitFor(() => h.store.lookupChannel('aged')!.msgs.state().msgs === 0, 5000, 'messages expired');
    const sub = await subscribe(client, 'aged', client.subscriptionOptions().setDeliverAllAvailable());
    const got = collect(sub, 1);
    await publishMany(client, 'aged', 1, 'fresh');
    const [msg] = await got;
    expect(msg!.getSequence()).toBe(4);
  });

  it('max_inactivity deletes a channel without messages or subscriptions, not an active one', async () => {
    await publishMany(client, 'idle.gone', 1);
    await publishMany(client, 'idle.kept', 1);
    const sub = await subscribe(client, 'idle.kept', client.subscriptionOptions());
    await waitFor(() => h.store.lookupChannel('idle.gone') === undefined, 5000, 'inactive channel deleted');
    expect(h.server.context!.channels.has('idle.gone')).toBe(false);
    expect(h.store.lookupChannel('idle.kept')).toBeDefined();
    sub.unsubscribe();
    await waitFor(() => h.store.lookupChannel('idle.kept') === undefined, 5000, 'channel deleted after last sub left');
    // A deleted channel can be created again from scratch.
    await publishMany(client, 'idle.gone', 1, 'again');
    expect(h.store.lookupChannel('idle.gone')!.msgs.lastSequence()).toBe(1);
  });
});
