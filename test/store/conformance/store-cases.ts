// Conformance cases for the Store itself: channels, clients, limits configuration, closing.

import { expect, it } from 'vitest';
import { defaultStoreLimits } from '../../../src/store/limits.js';
import { StoreErrorCode } from '../../../src/store/types.js';
import { expectCode, msg, sub, BASE_TIME_NS, type Harness } from './harness.js';

export function storeCases(h: () => Harness): void {
  it('starts empty: nothing to recover, no channel, zero totals', async () => {
    const store = await h().fresh();
    expect(['MEMORY', 'FILE']).toContain(store.type);
    expect(store.channelNames()).toEqual([]);
    expect(store.totals()).toEqual({ msgs: 0, bytes: 0 });
    expect(store.lookupChannel('foo')).toBeUndefined();
  });

  it('creates a channel once and finds it again, even with concurrent creations', async () => {
    const store = await h().fresh();
    const [a, b] = await Promise.all([store.createChannel('foo.bar'), store.createChannel('foo.bar')]);
    expect(a).toBe(b);
    expect(a.name).toBe('foo.bar');
    expect(await store.createChannel('foo.bar')).toBe(a);
    expect(store.lookupChannel('foo.bar')).toBe(a);
    await store.createChannel('baz');
    expect(store.channelNames()).toEqual(['foo.bar', 'baz']);
  });

  it('rejects invalid channel names with STORE_CHANNEL_INVALID', async () => {
    const store = await h().fresh();
    for (const name of ['', 'a..b', '.a', 'a.', 'a/b', 'a.*', 'a.>', '>', 'a b', 'a*b']) {
      await expect(store.createChannel(name)).rejects.toEqual(expectCode(StoreErrorCode.ChannelInvalid));
    }
    expect(store.channelNames()).toEqual([]);
  });

  it('refuses channels beyond max_channels with the reference error text', async () => {
    const store = await h().fresh({ ...defaultStoreLimits(), maxChannels: 2 });
    await store.createChannel('a');
    await store.createChannel('b');
    const failure = store.createChannel('c');
    await expect(failure).rejects.toEqual(expectCode(StoreErrorCode.TooManyChannels));
    await expect(failure).rejects.toThrow(/^too many channels$/);
    expect(await store.createChannel('a')).toBe(store.lookupChannel('a'));
    expect(await store.deleteChannel('a')).toBe(true);
    await store.createChannel('c');
  });

  it('treats max_channels 0 as unlimited', async () => {
    const store = await h().fresh({ ...defaultStoreLimits(), maxChannels: 0 });
    for (let i = 0; i < 150; i++) await store.createChannel(`c${i}`);
    expect(store.channelNames()).toHaveLength(150);
  });

  it('rejects a channel differing only in case, with the reference text', async () => {
    const store = await h().fresh();
    await store.createChannel('Foo');
    await expect(store.createChannel('foo')).rejects.toThrow(
      'rejecting channel "foo" because channel "Foo" alreay exists (different cases not allowed)',
    );
    await expect(store.createChannel('FOO')).rejects.toEqual(expectCode(StoreErrorCode.ChannelCaseConflict));
  });

  it('deletes a channel with its messages and subscriptions', async () => {
    const store = await h().fresh();
    const channel = await store.createChannel('foo');
    channel.msgs.storeBatch([msg('foo', 'x', BASE_TIME_NS)]);
    channel.subs.createSub(sub());
    expect(await store.deleteChannel('foo')).toBe(true);
    expect(store.lookupChannel('foo')).toBeUndefined();
    expect(store.totals()).toEqual({ msgs: 0, bytes: 0 });
    expect(await store.deleteChannel('foo')).toBe(false);
    const again = await store.createChannel('foo');
    expect(again.msgs.lastSequence()).toBe(0);
    expect(again.subs.list()).toEqual([]);
    await store.createChannel('FOO').then(
      () => expect.unreachable('case conflict with a re-created channel'),
      (err: unknown) => expect(err).toEqual(expectCode(StoreErrorCode.ChannelCaseConflict)),
    );
  });

  it('adds and deletes clients, rejecting invalid ones', async () => {
    const store = await h().fresh();
    const client = { id: 'me', hbInbox: '_INBOX.hb', connId: new Uint8Array([1, 2]), protocol: 1, pingInterval: 5, pingMaxOut: 88 };
    await store.addClient(client);
    await store.addClient({ ...client, hbInbox: '_INBOX.hb2' });
    expect(await store.deleteClient('me')).toBe(true);
    expect(await store.deleteClient('me')).toBe(false);
    await expect(store.addClient({ ...client, id: '' })).rejects.toEqual(expectCode(StoreErrorCode.ClientInvalid));
    await expect(store.addClient(null as never)).rejects.toEqual(expectCode(StoreErrorCode.ClientInvalid));
  });

  it('sums messages and bytes over channels', async () => {
    const store = await h().fresh();
    const a = await store.createChannel('a');
    const b = await store.createChannel('b');
    a.msgs.storeBatch([msg('a', 'one', BASE_TIME_NS), msg('a', 'two', BASE_TIME_NS)]);
    b.msgs.storeBatch([msg('b', 'three', BASE_TIME_NS)]);
    const sa = a.msgs.state();
    const sb = b.msgs.state();
    expect(store.totals()).toEqual({ msgs: 3, bytes: sa.bytes + sb.bytes });
  });

  it('resolves per-channel limits with wildcards and inheritance', async () => {
    const limits = {
      ...defaultStoreLimits(),
      perChannel: new Map([
        ['foo.>', { maxSubscriptions: 0, maxMsgs: 10, maxBytes: 0, maxAgeMs: 0, maxInactivityMs: 0 }],
        ['foo.bar', { maxSubscriptions: 5, maxMsgs: 0, maxBytes: -1, maxAgeMs: 0, maxInactivityMs: 0 }],
      ]),
    };
    const store = await h().fresh(limits);
    expect(store.channelLimits('foo.bar')).toEqual({
      maxSubscriptions: 5, maxMsgs: 10, maxBytes: 0, maxAgeMs: 0, maxInactivityMs: 0,
    });
    expect(store.channelLimits('foo.baz').maxMsgs).toBe(10);
    expect(store.channelLimits('other')).toEqual(defaultStoreLimits().global);
  });

  it('rejects invalid limits with CONFIG_INVALID and keeps the old ones', async () => {
    const store = await h().fresh();
    expect(() => store.setLimits({ ...defaultStoreLimits(), maxChannels: -1 })).toThrow(
      'max channels limit cannot be negative (-1)',
    );
    expect(() =>
      store.setLimits({ ...defaultStoreLimits(), perChannel: new Map([['a..b', defaultStoreLimits().global]]) }),
    ).toThrow(expectCode('CONFIG_INVALID'));
    expect(store.getLimits().maxChannels).toBe(100);
  });

  it('applies new limits to existing channels', async () => {
    const store = await h().fresh();
    const channel = await store.createChannel('foo');
    store.setLimits({ ...defaultStoreLimits(), global: { ...defaultStoreLimits().global, maxMsgs: 2 } });
    channel.msgs.storeBatch([1, 2, 3].map((i) => msg('foo', `m${i}`, BASE_TIME_NS)));
    expect(channel.msgs.state().msgs).toBe(2);
  });

  it('refuses every call once closed, with STORE_CLOSED', async () => {
    const store = await h().fresh();
    const channel = await store.createChannel('foo');
    await store.close();
    await expect(store.createChannel('bar')).rejects.toEqual(expectCode(StoreErrorCode.Closed));
    await expect(store.addClient({ id: 'x', hbInbox: 'y', connId: new Uint8Array(0), protocol: 1, pingInterval: 0, pingMaxOut: 0 })).rejects.toEqual(
      expectCode(StoreErrorCode.Closed),
    );
    expect(() => channel.msgs.storeBatch([msg('foo', 'x', BASE_TIME_NS)])).toThrow(expectCode(StoreErrorCode.Closed));
    expect(() => channel.subs.createSub(sub())).toThrow(expectCode(StoreErrorCode.Closed));
    await store.close();
  });
}
