// Proves how delivery progress is handed to the state writer: notes of one turn go as one sentAck
// op per channel; while that batch is not yet durable the notes of later turns wait and go
// together once it is; an explicit flush never waits. Dropping sequences that were sent and acked
// in the same batch leaves the applied result (pending set, lastSent) exactly as it was, for any
// lists (fast-check), and drops every such sequence but the highest when both lists ascend;
// paced batches go at most once per interval. A
// batch the writer refuses (known not applied) is noted again, acks of what is no longer pending
// included, and one too big is not.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DeliveryProgress, dropAckedFromSent } from '../../src/server/progress.js';
import type { Scheduler, TimerHandle } from '../../src/server/scheduler.js';
import type { ChannelState, SubscriptionState } from '../../src/server/state.js';
import type { Op, OpResult, SentAckOp } from '../../src/fsm/ops.js';
import { NotCommittedError, type StateWriter } from '../../src/fsm/writer.js';
import { silentLogger } from '../../src/util/logger.js';

/** How the state machine applies one entry of a sentAck op (apply-subs.ts). */
function apply(pending: ReadonlySet<number>, lastSent: number, sent: readonly number[], acked: readonly number[]): { pending: number[]; lastSent: number } {
  const result = new Set(pending);
  let last = lastSent;
  for (const seq of sent) {
    result.add(seq);
    if (seq > last) last = seq;
  }
  for (const seq of acked) result.delete(seq);
  return { pending: [...result].sort((a, b) => a - b), lastSent: last };
}

describe('dropAckedFromSent', () => {
  it('changes nothing in what applying the op gives', () => {
    const seqs = fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 30 });
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { maxLength: 10 }), fc.integer({ min: 0, max: 40 }), seqs, seqs, (pending, lastSent, sent, acked) => {
        const before = apply(new Set(pending), lastSent, sent, acked);
        const kept = [...sent];
        dropAckedFromSent(kept, acked);
        expect(apply(new Set(pending), lastSent, kept, acked)).toEqual(before);
        for (const seq of kept) expect(sent).toContain(seq);
      }),
      { numRuns: 2_000 },
    );
  });

  it('keeps only the highest of what was sent and acked in order, and what is unacked', () => {
    const sent = [10, 11, 12, 13, 14, 15];
    dropAckedFromSent(sent, [8, 9, 10, 11, 12, 15]);
    expect(sent).toEqual([13, 14, 15]);
    const all = [1, 2, 3];
    dropAckedFromSent(all, [1, 2, 3]);
    expect(all).toEqual([3]);
  });
});

class ManualScheduler implements Scheduler {
  private immediates: Array<() => void> = [];
  private timers: Array<{ atMs: number; callback: () => void }> = [];
  private now = 0;
  nowMs(): number {
    return this.now;
  }
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer = { atMs: this.now + delayMs, callback };
    this.timers.push(timer);
    return timer;
  }
  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t !== handle);
  }
  /** Moves the clock and runs the timers that are due. */
  advance(ms: number): void {
    this.now += ms;
    const due = this.timers.filter((t) => t.atMs <= this.now);
    this.timers = this.timers.filter((t) => t.atMs > this.now);
    for (const timer of due) timer.callback();
  }
  setImmediate(callback: () => void): void {
    this.immediates.push(callback);
  }
  /** Runs the callbacks queued so far (one turn). */
  turn(): void {
    for (const callback of this.immediates.splice(0)) callback();
  }
}

class HeldWriter implements StateWriter {
  readonly submitted: Array<readonly Op[]> = [];
  private readonly outcomes: Array<(error?: Error) => void> = [];
  submit(ops: readonly Op[]): Promise<OpResult[]> {
    this.submitted.push(ops);
    return new Promise((resolve, reject) => this.outcomes.push((error) => (error === undefined ? resolve([]) : reject(error))));
  }
  /** Makes the oldest outstanding submission durable. */
  release(): void {
    this.outcomes.shift()!();
  }
  /** Refuses the oldest outstanding submission (as Raft back pressure does). */
  refuse(): void {
    this.outcomes.shift()!(new NotCommittedError('back pressure'));
  }
}

function subscription(id: number, channel: ChannelState, pending: number[] = []): SubscriptionState {
  const entries = pending.map((seq): [number, number] => [seq, 0]);
  return { id, channel, pending: new Map(entries), unreplicatedSent: [], unreplicatedAcked: [], progressQueued: false } as unknown as SubscriptionState;
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('DeliveryProgress', () => {
  it('hands over one batch per turn, and later turns together once it is durable', async () => {
    const scheduler = new ManualScheduler();
    const writer = new HeldWriter();
    const progress = new DeliveryProgress(writer, scheduler, silentLogger(), 0);
    const channel = { name: 'c' } as ChannelState;
    const a = subscription(1, channel);
    const b = subscription(2, channel);
    progress.sent(a, 1);
    progress.sent(b, 1);
    scheduler.turn();
    expect(writer.submitted).toHaveLength(1);
    expect((writer.submitted[0]![0] as SentAckOp).subs).toEqual([
      { subId: 1, sent: [1], acked: [] },
      { subId: 2, sent: [1], acked: [] },
    ]);
    // Two more turns while the first batch is not durable: nothing goes yet.
    progress.sent(a, 2);
    progress.acked(a, 1);
    scheduler.turn();
    progress.sent(a, 3);
    progress.acked(a, 2);
    progress.acked(b, 1);
    scheduler.turn();
    expect(writer.submitted).toHaveLength(1);
    writer.release();
    await settle();
    scheduler.turn();
    expect(writer.submitted).toHaveLength(2);
    // 2 was sent and acked in this batch: it never becomes pending; 3 is the highest sent.
    expect((writer.submitted[1]![0] as SentAckOp).subs).toEqual([
      { subId: 1, sent: [3], acked: [1, 2] },
      { subId: 2, sent: [], acked: [1] },
    ]);
  });

  it('flush hands over at once, even while a batch is in flight', () => {
    const scheduler = new ManualScheduler();
    const writer = new HeldWriter();
    const progress = new DeliveryProgress(writer, scheduler, silentLogger(), 0);
    const a = subscription(1, { name: 'c' } as ChannelState);
    progress.sent(a, 1);
    scheduler.turn();
    progress.sent(a, 2);
    progress.flush();
    expect(writer.submitted).toHaveLength(2);
    expect((writer.submitted[1]![0] as SentAckOp).subs).toEqual([{ subId: 1, sent: [2], acked: [] }]);
    scheduler.turn();
    expect(writer.submitted).toHaveLength(2);
  });

  it('notes a refused batch again, ahead of what came since', async () => {
    const scheduler = new ManualScheduler();
    const writer = new HeldWriter();
    const progress = new DeliveryProgress(writer, scheduler, silentLogger(), 0);
    // 5 and 6 were sent; 6 is still pending, 5 was acked after the batch went out.
    const a = subscription(1, { name: 'c' } as ChannelState, [6]);
    progress.sent(a, 5);
    progress.sent(a, 6);
    progress.acked(a, 4);
    scheduler.turn();
    progress.acked(a, 5);
    writer.refuse();
    await settle();
    scheduler.turn();
    expect(writer.submitted).toHaveLength(2);
    // Applied in one op (sent, then acked): 6 pending, 4 and 5 not, lastSent 6.
    // (5, sent and acked in the batch, is left out of sent.)
    expect((writer.submitted[1]![0] as SentAckOp).subs).toEqual([{ subId: 1, sent: [6], acked: [4, 5, 5] }]);
  });

  it('does not note again a refused batch too big to pass', async () => {
    const scheduler = new ManualScheduler();
    const writer = new HeldWriter();
    const progress = new DeliveryProgress(writer, scheduler, silentLogger(), 0);
    const a = subscription(1, { name: 'c' } as ChannelState);
    for (let seq = 1; seq <= 300_000; seq++) progress.sent(a, seq);
    scheduler.turn();
    writer.refuse();
    await settle();
    scheduler.turn();
    expect(writer.submitted).toHaveLength(1);
  });

  it('hands over paced batches at most once per interval', async () => {
    const scheduler = new ManualScheduler();
    const writer = new HeldWriter();
    const progress = new DeliveryProgress(writer, scheduler, silentLogger(), 10);
    const a = subscription(1, { name: 'c' } as ChannelState);
    progress.sent(a, 1);
    scheduler.turn();
    expect(writer.submitted).toHaveLength(1);
    writer.release();
    await settle();
    scheduler.advance(4);
    progress.sent(a, 2);
    scheduler.turn();
    expect(writer.submitted).toHaveLength(1);
    scheduler.advance(5);
    expect(writer.submitted).toHaveLength(1);
    scheduler.advance(1);
    expect(writer.submitted).toHaveLength(2);
    expect((writer.submitted[1]![0] as SentAckOp).subs).toEqual([{ subId: 1, sent: [2], acked: [] }]);
  });
});
