// Proves that the sent and ack records subs.dat gets, framed in place in a shared buffer, are
// byte for byte the reference's records (type 5/4, SubStateUpdate{ID, Seqno}) in the order the
// calls were made, interleaved with whole-subscription records, across many staging buffers and
// with large IDs and sequences; and that replaying them gives back every pending set.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { emptySubState, encodeSubState, encodeSubStateUpdate } from '../../../src/store/records.js';
import { message, openStore, serverInfo } from './support/open.js';
import { protoInt, readProto, readRecords } from './support/reader.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length > 0) rmSync(dirs.pop()!, { recursive: true, force: true });
});

/** Compaction as soon as half the records are dead, whatever the size and the time since the last. */
const file = { compactMinSizeBytes: 0, compactIntervalSec: 0, compactFragPercent: 50 };

/** A new store with those options and its channel `c`. */
async function compactingStore() {
  const dir = mkdtempSync(join(tmpdir(), 'tstan-subs-'));
  dirs.push(dir);
  const store = openStore(dir, { file });
  await store.recover();
  await store.init(serverInfo());
  return { dir, store, channel: await store.createChannel('c') };
}

describe('subs.dat sent and ack records', () => {
  it('are the reference records, in call order, and replay to the same pending sets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tstan-subs-'));
    dirs.push(dir);
    const store = openStore(dir);
    await store.recover();
    await store.init(serverInfo());
    const channel = await store.createChannel('c');
    await channel.msgs.storeBatch([message('c', 'x', 1n)]).durable;
    const expected: Array<[number, Buffer]> = [];
    const pending = new Map<number, Set<number>>();
    const sub = (id: number) => ({ ...emptySubState(), id, clientId: 'me', inbox: 'in', ackInbox: 'ack', maxInFlight: 9, ackWaitInSecs: 30 });
    for (const id of [1, 2, 2 ** 40]) {
      channel.subs.createSub(sub(id));
      expected.push([1, encodeSubState(sub(id))]);
      pending.set(id, new Set());
    }
    // Enough records to fill several staging buffers, with big sequences and an update between.
    const ids = [1, 2, 2 ** 40];
    for (let i = 1; i <= 3_000; i++) {
      const id = ids[i % 3]!;
      const seq = i % 7 === 0 ? 2 ** 50 + i : i;
      channel.subs.addSeqPending(id, seq);
      expected.push([5, encodeSubStateUpdate({ id, seqno: seq })]);
      pending.get(id)!.add(seq);
      if (i % 2 === 0) {
        channel.subs.ackSeqPending(id, seq);
        expected.push([4, encodeSubStateUpdate({ id, seqno: seq })]);
        pending.get(id)!.delete(seq);
      }
      if (i === 1_500) {
        const updated = { ...sub(2), lastSent: 1_499, maxInFlight: 3 };
        channel.subs.updateSub(updated);
        expected.push([2, encodeSubState(updated)]);
      }
      if (i % 1_000 === 0) await channel.subs.flush();
    }
    // Acks of what is not pending write nothing.
    channel.subs.ackSeqPending(1, 2);
    await channel.subs.flush();
    await store.close();

    const records = readRecords(readFileSync(join(dir, 'c', 'subs.dat')), true);
    expect(records.map((r) => r.type)).toEqual(expected.map(([type]) => type));
    for (let i = 0; i < records.length; i++) expect(records[i]!.payload.equals(expected[i]![1])).toBe(true);
    const last = readProto(records[records.length - 1]!.payload);
    expect(protoInt(last, 1) > 0n).toBe(true);

    const again = openStore(dir);
    const state = await again.recover();
    const subs = state!.channels[0]!.subscriptions;
    for (const { sub: recovered, pending: seqs } of subs) {
      expect(seqs).toEqual([...pending.get(recovered.id)!].sort((a, b) => a - b));
    }
    await again.close();
  });

  it('compact exactly when half the records are dead, counting pending sets kept across a reopen', async () => {
    const { dir, store, channel } = await compactingStore();
    const sub = { ...emptySubState(), clientId: 'me', inbox: 'in', ackInbox: 'ack', maxInFlight: 99, ackWaitInSecs: 30, durableName: 'd', isDurable: true };
    channel.subs.createSub(sub);
    for (let seq = 1; seq <= 10; seq++) channel.subs.addSeqPending(sub.id, seq);
    const count = async (): Promise<number> => {
      await channel.subs.flush();
      return readRecords(readFileSync(join(dir, 'c', 'subs.dat')), true).length;
    };
    // 11 records, 11 live; each ack adds a record and kills one: 4 acks make 8 of 15 dead.
    for (let seq = 1; seq <= 3; seq++) channel.subs.ackSeqPending(sub.id, seq);
    expect(await count()).toBe(14);
    channel.subs.ackSeqPending(sub.id, 4);
    expect(await count()).toBe(7);
    await store.close();

    const again = openStore(dir, { file });
    const recovered = (await again.recover())!.channels[0]!.channel;
    const recount = async (): Promise<number> => {
      await recovered.subs.flush();
      return readRecords(readFileSync(join(dir, 'c', 'subs.dat')), true).length;
    };
    // 7 records, 7 live (the sub and 6 pending): the third ack makes 6 of 10 dead.
    recovered.subs.ackSeqPending(sub.id, 5);
    recovered.subs.ackSeqPending(sub.id, 6);
    expect(await recount()).toBe(9);
    recovered.subs.ackSeqPending(sub.id, 7);
    expect(await recount()).toBe(4);
    await again.close();
  });

  it('compact writes the reference records: each subscription, then its pending sequences in order', async () => {
    const { dir, store, channel } = await compactingStore();
    const sub = (id: number) => ({ ...emptySubState(), id, clientId: 'me', inbox: 'in', ackInbox: 'ack', maxInFlight: 9, ackWaitInSecs: 30 });
    // Big IDs and sequences (multi-byte varints), pending added out of order.
    const pending = new Map<number, number[]>([
      [2 ** 40, [2 ** 50 + 3, 7, 2 ** 50 + 1, 300]],
      [5, [1, 2 ** 31, 128]],
    ]);
    for (const [id, seqs] of pending) {
      channel.subs.createSub(sub(id));
      for (const seq of seqs) channel.subs.addSeqPending(id, seq);
    }
    // Sequences sent and acked until half the records are dead: the last ack compacts.
    let seq = 10_000;
    while (readRecords(readFileSync(join(dir, 'c', 'subs.dat')), true).length > 9 || seq === 10_000) {
      channel.subs.addSeqPending(5, seq);
      channel.subs.ackSeqPending(5, seq);
      seq++;
      await channel.subs.flush();
    }
    const expected: Array<[number, Buffer]> = [];
    // A subscription's record carries the highest sequence sent to it.
    const lastSent = new Map([
      [5, Math.max(2 ** 31, seq - 1)],
      [2 ** 40, 2 ** 50 + 3],
    ]);
    for (const id of [5, 2 ** 40]) {
      expected.push([1, encodeSubState({ ...sub(id), lastSent: lastSent.get(id)! })]);
      for (const s of [...pending.get(id)!].sort((a, b) => a - b)) expected.push([5, encodeSubStateUpdate({ id, seqno: s })]);
    }
    const records = readRecords(readFileSync(join(dir, 'c', 'subs.dat')), true);
    expect(records.map((r) => r.type)).toEqual(expected.map(([type]) => type));
    for (let i = 0; i < records.length; i++) expect(records[i]!.payload.toString('hex'), `record ${i}`).toBe(expected[i]![1].toString('hex'));
    await store.close();

    const again = openStore(dir, { file });
    const subs = (await again.recover())!.channels[0]!.subscriptions;
    for (const { sub: recovered, pending: seqs } of subs) expect(seqs).toEqual([...pending.get(recovered.id)!].sort((a, b) => a - b));
    await again.close();
  });
});
