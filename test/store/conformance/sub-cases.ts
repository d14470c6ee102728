// Conformance cases for SubStore: IDs, limits, updates, pending and acks, deletion, bad input.

import { expect, it } from 'vitest';
import { defaultStoreLimits } from '../../../src/store/limits.js';
import { StoreErrorCode } from '../../../src/store/types.js';
import { expectCode, sub, type Harness } from './harness.js';

export function subCases(h: () => Harness): void {
  it('assigns increasing IDs, honours given IDs and continues after them', async () => {
    const store = await h().fresh();
    const { subs } = await store.createChannel('foo');
    const a = sub();
    const b = sub({ clientId: 'client-2' });
    subs.createSub(a);
    subs.createSub(b);
    expect([a.id, b.id]).toEqual([1, 2]);
    subs.createSub(sub({ id: 10 }));
    const c = sub();
    subs.createSub(c);
    expect(c.id).toBe(11);
    expect(() => subs.createSub(sub({ id: 10 }))).toThrow(expectCode(StoreErrorCode.SubIdInUse));
    expect(subs.count()).toBe(4);
    expect(subs.list().map((r) => r.sub.id).sort((x, y) => x - y)).toEqual([1, 2, 10, 11]);
  });

  it('refuses subscriptions beyond max_subscriptions with the reference text', async () => {
    const limits = defaultStoreLimits();
    const store = await h().fresh({ ...limits, global: { ...limits.global, maxSubscriptions: 2 } });
    const { subs } = await store.createChannel('foo');
    subs.createSub(sub());
    subs.createSub(sub({ isDurable: true, durableName: 'dur', isClosed: true }));
    expect(() => subs.createSub(sub())).toThrow('too many subscriptions per channel');
    expect(() => subs.createSub(sub())).toThrow(expectCode(StoreErrorCode.TooManySubs));
    expect(subs.deleteSub(1)).toBe(true);
    subs.createSub(sub());
    expect(subs.count()).toBe(2);
  });

  it('updates a subscription and refuses to update an unknown one', async () => {
    const store = await h().fresh();
    const { subs } = await store.createChannel('foo');
    const s = sub({ isDurable: true, durableName: 'dur' });
    subs.createSub(s);
    subs.updateSub({ ...s, isClosed: true, clientId: '', maxInFlight: 7 });
    const [listed] = subs.list();
    expect(listed!.sub).toEqual({ ...s, isClosed: true, clientId: '', maxInFlight: 7 });
    expect(() => subs.updateSub(sub({ id: 99 }))).toThrow(expectCode(StoreErrorCode.SubUnknown));
  });

  it('tracks pending sequences, acks, and raises lastSent', async () => {
    const store = await h().fresh();
    const { subs } = await store.createChannel('foo');
    const s = sub();
    subs.createSub(s);
    for (const seq of [3, 1, 2, 5]) subs.addSeqPending(s.id, seq);
    subs.ackSeqPending(s.id, 2);
    subs.ackSeqPending(s.id, 42);
    subs.addSeqPending(999, 1);
    subs.ackSeqPending(999, 1);
    const [listed] = subs.list();
    expect(listed!.pending).toEqual([1, 3, 5]);
    expect(listed!.sub.lastSent).toBe(5);
    await subs.flush();
  });

  it('forgets a deleted subscription and its pending set', async () => {
    const store = await h().fresh();
    const { subs } = await store.createChannel('foo');
    const s = sub();
    subs.createSub(s);
    subs.addSeqPending(s.id, 1);
    expect(subs.deleteSub(s.id)).toBe(true);
    expect(subs.deleteSub(s.id)).toBe(false);
    expect(subs.list()).toEqual([]);
    subs.addSeqPending(s.id, 2);
    expect(subs.list()).toEqual([]);
  });

  it('keeps its own copies of subscription states', async () => {
    const store = await h().fresh();
    const { subs } = await store.createChannel('foo');
    const s = sub();
    subs.createSub(s);
    s.inbox = 'changed-after-create';
    const listed = subs.list();
    expect(listed[0]!.sub.inbox).toBe('_INBOX.deliver');
    listed[0]!.sub.inbox = 'changed-in-listing';
    listed[0]!.pending.push(77);
    expect(subs.list()[0]!.sub.inbox).toBe('_INBOX.deliver');
    expect(subs.list()[0]!.pending).toEqual([]);
  });

  it('rejects malformed subscription states and sequences', async () => {
    const store = await h().fresh();
    const { subs } = await store.createChannel('foo');
    const bad: unknown[] = [null, { ...sub(), clientId: 5 }, { ...sub(), id: -1 }, { ...sub(), lastSent: 0.5 }, { ...sub(), isDurable: 'yes' }];
    for (const b of bad) expect(() => subs.createSub(b as never)).toThrow(expectCode(StoreErrorCode.RecordInvalid));
    const s = sub();
    subs.createSub(s);
    expect(() => subs.addSeqPending(s.id, -3)).toThrow(expectCode(StoreErrorCode.RecordInvalid));
    expect(() => subs.addSeqPending(s.id, Number.NaN)).toThrow(expectCode(StoreErrorCode.RecordInvalid));
    expect(subs.count()).toBe(1);
  });
}
