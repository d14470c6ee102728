// Proves the chaos checkers on hand-made histories: a clean one passes with the expected counts,
// and each known-bad one (a lost acknowledged message, an unexpected value, a reordered pair, two
// payloads at one sequence, ...) is flagged, so a passing run is not a vacuous pass.
import { describe, expect, it } from 'vitest';
import type { Op, OpInput, ReaderKind } from './history.js';
import { checkHistory } from './checkers/check-history.js';
import { checkSequences } from './checkers/sequences.js';
import { checkTotalQueue, splitLost, totalQueue } from './checkers/total-queue.js';

/** Builds a history with a strictly increasing clock. */
function historyBuilder() {
  const ops: Op[] = [];
  let clock = 0;
  const push = (input: OpInput) => ops.push({ ...input, tMonoNs: (clock += 1000) });
  return {
    ops,
    invoke(proc: string, channel: string, value: string) {
      push({ proc, type: 'invoke', f: 'publish', channel, value });
    },
    complete(proc: string, channel: string, value: string, type: 'ok' | 'fail' | 'info') {
      push({ proc, type, f: 'publish', channel, value });
    },
    publish(proc: string, channel: string, value: string, type: 'ok' | 'fail' | 'info' = 'ok') {
      this.invoke(proc, channel, value);
      this.complete(proc, channel, value, type);
    },
    deliver(reader: string, channel: string, value: string, seq: number, readerKind: ReaderKind = 'durable') {
      push({ proc: reader, type: 'ok', f: 'deliver', channel, value, seq, reader, readerKind });
    },
    drain(proc: string, channel: string, entries: readonly [string, number][], complete = true) {
      push({ proc, type: 'invoke', f: 'drain', channel, reader: proc });
      for (const [value, seq] of entries) this.deliver(proc, channel, value, seq, 'drain');
      push({ proc, type: complete ? 'ok' : 'info', f: 'drain', channel });
    },
  };
}

/** Three acked publishes read by a durable and a drain, in order. */
function cleanHistory() {
  const h = historyBuilder();
  h.publish('pub-0', 'c0', 'p0-1');
  h.publish('pub-1', 'c0', 'p1-1');
  h.publish('pub-0', 'c0', 'p0-2');
  h.deliver('dur', 'c0', 'p0-1', 1);
  h.deliver('dur', 'c0', 'p1-1', 2);
  h.deliver('dur', 'c0', 'p0-2', 3);
  h.drain('drain-c0', 'c0', [['p0-1', 1], ['p1-1', 2], ['p0-2', 3]]);
  return h;
}

describe('total-queue (Jepsen semantics)', () => {
  it('counts attempts, enqueues, dequeues, recovered and duplicates of a valid history', () => {
    const r = totalQueue(['a', 'b', 'c', 'd'], ['a', 'b'], ['a', 'b', 'b', 'c']);
    expect(r).toMatchObject({ attempts: 4, enqueues: 2, dequeues: 4, ok: 3, unexpected: 0, duplicated: 1, lost: 0, recovered: 1, valid: true });
  });

  it('flags an acknowledged value nobody dequeued as lost', () => {
    const r = totalQueue(['a', 'b'], ['a', 'b'], ['a']);
    expect(r).toMatchObject({ lost: 1, lostValues: ['b'], valid: false });
  });

  it('flags a dequeued value that was never attempted as unexpected', () => {
    const r = totalQueue(['a'], ['a'], ['a', 'zz']);
    expect(r).toMatchObject({ unexpected: 1, unexpectedValues: ['zz'], valid: false });
  });

  it('splits lost values into prefix, middle and postfix by invoke order', () => {
    const attempts = ['l1', 'r1', 'l2', 'r2', 'l3', 'l4'];
    expect(splitLost(attempts, new Set(['r1', 'r2']), new Set(['l1', 'l2', 'l3', 'l4']))).toEqual({ prefix: 1, middle: 1, postfix: 2 });
    expect(splitLost(attempts, new Set(), new Set(['l1']))).toEqual({ prefix: 0, middle: 0, postfix: 1 });
  });

  it('checks each reader of a channel on its own: a durable that missed a value fails the run', () => {
    const h = historyBuilder();
    h.publish('pub-0', 'c0', 'p0-1');
    h.publish('pub-0', 'c0', 'p0-2');
    h.deliver('dur', 'c0', 'p0-1', 1);
    h.drain('drain-c0', 'c0', [['p0-1', 1], ['p0-2', 2]]);
    const [c0] = checkTotalQueue(h.ops);
    expect(c0?.all.lost).toBe(0);
    expect(c0?.readers['dur']?.lostValues).toEqual(['p0-2']);
    expect(c0?.valid).toBe(false);
  });

  it('checks a drain that read nothing (an emptied channel) as a reader that lost everything', () => {
    const h = historyBuilder();
    h.publish('pub-0', 'c0', 'p0-1');
    h.deliver('dur', 'c0', 'p0-1', 1);
    h.drain('drain-c0', 'c0', []);
    const [c0] = checkTotalQueue(h.ops);
    expect(c0?.readers['drain-c0']?.lost).toBe(1);
    expect(c0?.valid).toBe(false);
    expect(checkHistory(h.ops).valid).toBe(false);
  });

  it('does not count failed or indeterminate publishes that never came out as lost', () => {
    const h = historyBuilder();
    h.publish('pub-0', 'c0', 'p0-1', 'fail');
    h.publish('pub-0', 'c0', 'p0-2', 'info');
    h.publish('pub-0', 'c0', 'p0-3', 'info');
    h.drain('drain-c0', 'c0', [['p0-3', 1]]);
    const [c0] = checkTotalQueue(h.ops);
    expect(c0?.all).toMatchObject({ attempts: 3, enqueues: 0, lost: 0, recovered: 1, valid: true });
  });
});

describe('sequence checks (Redpanda style)', () => {
  it('passes a clean history and counts nothing', () => {
    const r = checkSequences(cleanHistory().ops);
    expect(r).toMatchObject({ inconsistentSeqs: 0, gaps: 0, reorders: 0, realtimeViolations: 0, fifoViolations: 0, lostWritesBelowRead: 0, valid: true });
    expect(r.duplicatesByCause).toEqual({ clientRetry: 0, redelivery: 0, serverBug: 0 });
  });

  it('flags two payloads at one sequence', () => {
    const h = historyBuilder();
    h.publish('pub-0', 'c0', 'p0-1', 'info');
    h.publish('pub-0', 'c0', 'p0-2');
    h.deliver('dur', 'c0', 'p0-1', 1);
    h.drain('drain-c0', 'c0', [['p0-2', 1]]);
    const r = checkSequences(h.ops);
    expect(r.inconsistentSeqs).toBe(1);
    expect(r.valid).toBe(false);
  });

  it('flags one payload at two sequences as a server bug, or a client retry when it was published twice', () => {
    const h = historyBuilder();
    h.publish('pub-0', 'c0', 'p0-1');
    h.drain('drain-c0', 'c0', [['p0-1', 1], ['p0-1', 2]]);
    const bug = checkSequences(h.ops);
    expect(bug.duplicatesByCause.serverBug).toBe(1);
    expect(bug.valid).toBe(false);
    const retried = historyBuilder();
    retried.publish('pub-0', 'c0', 'p0-1', 'info');
    retried.publish('pub-0', 'c0', 'p0-1');
    retried.drain('drain-c0', 'c0', [['p0-1', 1], ['p0-1', 2]]);
    const retry = checkSequences(retried.ops);
    expect(retry.duplicatesByCause).toMatchObject({ clientRetry: 1, serverBug: 0 });
    expect(retry.valid).toBe(true);
  });

  it('flags a reordered pair: B invoked after A was acked but stored before it', () => {
    const h = historyBuilder();
    h.publish('pub-0', 'c0', 'p0-1');
    h.publish('pub-1', 'c0', 'p1-1');
    h.drain('drain-c0', 'c0', [['p1-1', 1], ['p0-1', 2]]);
    const r = checkSequences(h.ops);
    expect(r.realtimeViolations).toBe(1);
    expect(r.valid).toBe(false);
  });

  it('accepts concurrent publishes stored in either order', () => {
    const h = historyBuilder();
    h.invoke('pub-0', 'c0', 'p0-1');
    h.invoke('pub-1', 'c0', 'p1-1');
    h.complete('pub-0', 'c0', 'p0-1', 'ok');
    h.complete('pub-1', 'c0', 'p1-1', 'ok');
    h.drain('drain-c0', 'c0', [['p1-1', 1], ['p0-1', 2]]);
    expect(checkSequences(h.ops).valid).toBe(true);
  });

  it('flags one publisher\'s messages stored out of its invoke order', () => {
    const h = historyBuilder();
    h.invoke('pub-0', 'c0', 'p0-1');
    h.invoke('pub-0', 'c0', 'p0-2');
    h.complete('pub-0', 'c0', 'p0-1', 'ok');
    h.complete('pub-0', 'c0', 'p0-2', 'ok');
    h.drain('drain-c0', 'c0', [['p0-2', 1], ['p0-1', 2]]);
    const r = checkSequences(h.ops);
    expect(r.fifoViolations).toBe(1);
    expect(r.realtimeViolations).toBe(0);
  });

  it('flags an acknowledged write lost below a sequence that was read', () => {
    const h = historyBuilder();
    h.publish('pub-0', 'c0', 'p0-1');
    h.publish('pub-0', 'c0', 'p0-2');
    h.drain('drain-c0', 'c0', [['p0-2', 1]]);
    const r = checkSequences(h.ops);
    expect(r.lostWritesBelowRead).toBe(1);
    // A lost tail with nothing read after it is loss too, but not "below a read".
    const tail = historyBuilder();
    tail.publish('pub-0', 'c0', 'p0-1');
    tail.publish('pub-0', 'c0', 'p0-2');
    tail.drain('drain-c0', 'c0', [['p0-1', 1]]);
    expect(checkSequences(tail.ops).lostWritesBelowRead).toBe(0);
  });

  it('counts redeliveries without failing, and flags gaps and new sequences that go backwards', () => {
    const h = historyBuilder();
    for (let n = 1; n <= 4; n++) h.publish('pub-0', 'c0', `p0-${n}`);
    h.deliver('dur', 'c0', 'p0-1', 1);
    h.deliver('dur', 'c0', 'p0-2', 2);
    h.deliver('dur', 'c0', 'p0-1', 1);
    h.deliver('dur', 'c0', 'p0-3', 3);
    const redelivered = checkSequences(h.ops);
    expect(redelivered).toMatchObject({ gaps: 0, reorders: 0, valid: true });
    expect(redelivered.duplicatesByCause.redelivery).toBe(1);
    h.deliver('gappy', 'c0', 'p0-1', 1);
    h.deliver('gappy', 'c0', 'p0-3', 3);
    h.deliver('gappy', 'c0', 'p0-2', 2);
    const bad = checkSequences(h.ops);
    expect(bad).toMatchObject({ gaps: 1, reorders: 1, valid: false });
  });

  it('exempts from order a message flagged redelivered that the reader never got (lost in transit)', () => {
    const h = historyBuilder();
    for (let n = 1; n <= 4; n++) h.publish('pub-0', 'c0', `p0-${n}`);
    h.deliver('dur', 'c0', 'p0-1', 1);
    h.ops.push({ proc: 'dur', type: 'ok', f: 'deliver', channel: 'c0', value: 'p0-3', seq: 3, reader: 'dur', readerKind: 'durable', redelivered: true, tMonoNs: 1e9 });
    h.ops.push({ proc: 'dur', type: 'ok', f: 'deliver', channel: 'c0', value: 'p0-2', seq: 2, reader: 'dur', readerKind: 'durable', redelivered: true, tMonoNs: 1e9 + 1 });
    h.ops.push({ proc: 'dur', type: 'ok', f: 'deliver', channel: 'c0', value: 'p0-4', seq: 4, reader: 'dur', readerKind: 'durable', redelivered: false, tMonoNs: 1e9 + 2 });
    expect(checkSequences(h.ops)).toMatchObject({ gaps: 0, reorders: 0, valid: true });
  });

  it('flags an acknowledged value read once but gone from the final deliver-all read (total-queue alone counts it as dequeued)', () => {
    const h = historyBuilder();
    h.publish('pub-0', 'c0', 'p0-1');
    h.publish('pub-0', 'c0', 'p0-2');
    h.deliver('dur', 'c0', 'p0-1', 1);
    h.deliver('dur', 'c0', 'p0-2', 2);
    h.drain('drain-c0', 'c0', [['p0-1', 1]]);
    const verdict = checkHistory(h.ops);
    expect(verdict.absentFromDrain).toBe(1);
    expect(verdict.valid).toBe(false);
    expect(verdict.reasons.join(' ')).toContain('absent from the final deliver-all read');
  });

  it('excuses a jump whose skipped sequences all come later flagged redelivered (lost in transit at a failover), not one with a sequence that never comes so', () => {
    const h = historyBuilder();
    for (let n = 1; n <= 4; n++) h.publish('pub-0', 'c0', `p0-${n}`);
    const deliver = (seq: number, redelivered: boolean, t: number) =>
      h.ops.push({ proc: 'dur', type: 'ok', f: 'deliver', channel: 'c0', value: `p0-${seq}`, seq, reader: 'dur', readerKind: 'durable', redelivered, tMonoNs: 1e9 + t });
    deliver(1, false, 1);
    deliver(4, false, 2);
    deliver(2, true, 3);
    deliver(3, true, 4);
    expect(checkSequences(h.ops)).toMatchObject({ gaps: 0, excusedJumps: 1, reorders: 0, valid: true });
    const partial = historyBuilder();
    for (let n = 1; n <= 4; n++) partial.publish('pub-0', 'c0', `p0-${n}`);
    partial.ops.push(...h.ops.filter((op) => op.f === 'deliver' && op.seq !== 3));
    expect(checkSequences(partial.ops)).toMatchObject({ gaps: 1, excusedJumps: 0, valid: false });
  });

  it('leaves sequence order to queue groups, whose members share the channel', () => {
    const h = historyBuilder();
    for (let n = 1; n <= 3; n++) h.publish('pub-0', 'c0', `p0-${n}`);
    h.deliver('workers', 'c0', 'p0-1', 1, 'queue');
    h.deliver('workers', 'c0', 'p0-3', 3, 'queue');
    h.deliver('workers', 'c0', 'p0-2', 2, 'queue');
    expect(checkSequences(h.ops).valid).toBe(true);
  });
});

describe('checkHistory verdict', () => {
  it('is valid for a clean history', () => {
    const v = checkHistory(cleanHistory().ops);
    expect(v.reasons).toEqual([]);
    expect(v.valid).toBe(true);
  });

  it('is invalid, with a reason, for each known-bad history', () => {
    const lostAcked = historyBuilder();
    lostAcked.publish('pub-0', 'c0', 'p0-1');
    lostAcked.publish('pub-0', 'c0', 'p0-2');
    lostAcked.drain('drain-c0', 'c0', [['p0-1', 1]]);
    const unexpected = cleanHistory();
    unexpected.drain('drain-c1', 'c0', [['p0-1', 1], ['p1-1', 2], ['p0-2', 3], ['ghost', 4]]);
    const incompleteDrain = historyBuilder();
    incompleteDrain.publish('pub-0', 'c0', 'p0-1');
    incompleteDrain.drain('drain-c0', 'c0', [['p0-1', 1]], false);
    for (const [name, h] of [['lost', lostAcked], ['unexpected', unexpected], ['drain', incompleteDrain]] as const) {
      const v = checkHistory(h.ops);
      expect(v.valid, name).toBe(false);
      expect(v.reasons.length, name).toBeGreaterThan(0);
    }
  });
});
