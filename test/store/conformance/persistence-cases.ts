// Conformance cases for persistent stores: what was stored and flushed comes back from recover().

import { expect, it } from 'vitest';
import { defaultStoreLimits } from '../../../src/store/limits.js';
import type { RecoveredState } from '../../../src/store/types.js';
import { BASE_TIME_NS, msg, serverInfo, sub, view, type Harness } from './harness.js';

function channelOf(recovered: RecoveredState | undefined, name: string) {
  const found = recovered?.channels.find((c) => c.channel.name === name);
  expect(found, `channel ${name} recovered`).toBeDefined();
  return found!;
}

export function persistenceCases(h: () => Harness): void {
  it('recovers the server info, replaced by a later init', async () => {
    const store = await h().fresh();
    let { store: again, recovered } = await h().reopen(store);
    expect(recovered?.info).toEqual(serverInfo('cluster-a'));
    await again.init({ ...serverInfo('cluster-a'), nodeId: 'node-1' });
    ({ recovered } = await h().reopen(again));
    expect(recovered?.info.nodeId).toBe('node-1');
  });

  it('recovers registered clients and forgets deleted ones', async () => {
    const store = await h().fresh();
    const client = { id: 'c1', hbInbox: '_INBOX.hb', connId: new Uint8Array([9, 9]), protocol: 1, pingInterval: 5, pingMaxOut: 88 };
    await store.addClient(client);
    await store.addClient({ ...client, id: 'c2' });
    await store.deleteClient('c2');
    const { recovered } = await h().reopen(store);
    expect(recovered?.clients.map((c) => ({ ...c, connId: [...c.connId] }))).toEqual([{ ...client, connId: [9, 9] }]);
  });

  it('recovers messages exactly, and continues their sequences', async () => {
    const store = await h().fresh();
    const { msgs } = await store.createChannel('foo.bar');
    const batch = [msg('foo.bar', 'a', BASE_TIME_NS + 1n), { ...msg('foo.bar', '', -5n), reply: 'r' }, msg('foo.bar', 'c', 2n ** 62n + 3n)];
    await msgs.storeBatch(batch).durable;
    await msgs.storeBatch([msg('foo.bar', 'gap', BASE_TIME_NS, 10)]).durable;
    const before = msgs.state();
    const { store: again, recovered } = await h().reopen(store);
    const channel = channelOf(recovered, 'foo.bar').channel;
    expect(again.lookupChannel('foo.bar')).toBe(channel);
    expect(channel.msgs.state()).toEqual(before);
    expect([channel.msgs.firstSequence(), channel.msgs.lastSequence()]).toEqual([1, 10]);
    for (const m of batch) expect(view(await channel.msgs.lookup(m.sequence))).toEqual(view(m));
    expect(await channel.msgs.lookup(5)).toBeUndefined();
    expect(channel.msgs.storeBatch([msg('foo.bar', 'next', BASE_TIME_NS)]).firstSeq).toBe(11);
  });

  it('recovers subscriptions with their pending sequences and continues IDs', async () => {
    const store = await h().fresh();
    const { subs } = await store.createChannel('foo');
    const plain = sub();
    const durable = sub({ isDurable: true, durableName: 'dur', clientId: 'client-2' });
    const gone = sub({ clientId: 'client-3' });
    for (const s of [plain, durable, gone]) subs.createSub(s);
    for (const seq of [1, 2, 3]) subs.addSeqPending(plain.id, seq);
    subs.ackSeqPending(plain.id, 2);
    subs.updateSub({ ...durable, isClosed: true, lastSent: 7 });
    subs.deleteSub(gone.id);
    await subs.flush();
    const { recovered } = await h().reopen(store);
    const found = channelOf(recovered, 'foo');
    const byId = new Map(found.subscriptions.map((r) => [r.sub.id, r]));
    expect([...byId.keys()].sort()).toEqual([plain.id, durable.id]);
    expect(byId.get(plain.id)).toEqual({ sub: { ...plain, lastSent: 3 }, pending: [1, 3] });
    expect(byId.get(durable.id)).toEqual({ sub: { ...durable, isClosed: true, lastSent: 7 }, pending: [] });
    const next = sub();
    found.channel.subs.createSub(next);
    expect(next.id).toBe(gone.id + 1);
  });

  it('does not recover deleted channels', async () => {
    const store = await h().fresh();
    const a = await store.createChannel('a');
    await store.createChannel('b');
    await a.msgs.storeBatch([msg('a', 'x', BASE_TIME_NS)]).durable;
    await store.deleteChannel('a');
    const { store: again, recovered } = await h().reopen(store);
    expect(recovered?.channels.map((c) => c.channel.name)).toEqual(['b']);
    expect(again.channelNames()).toEqual(['b']);
  });

  it('applies limits to recovered channels on the next store', async () => {
    const store = await h().fresh();
    const { msgs } = await store.createChannel('foo');
    await msgs.storeBatch([1, 2, 3, 4].map((i) => msg('foo', `${i}`, BASE_TIME_NS))).durable;
    h().limits = { ...defaultStoreLimits(), global: { ...defaultStoreLimits().global, maxMsgs: 2 } };
    const { recovered } = await h().reopen(store);
    const channel = channelOf(recovered, 'foo').channel;
    channel.msgs.storeBatch([msg('foo', '5', BASE_TIME_NS)]);
    expect([channel.msgs.firstSequence(), channel.msgs.lastSequence()]).toEqual([4, 5]);
  });
}
