// Redpanda-style sequence checks for a log with server-assigned sequences (docs/testing.md §5.5.2).
// PubAcks carry no sequence, so a publish's sequence is learnt from whoever read its payload.
// - seq → payload is a function (else: inconsistent sequence), and one payload sits at one
//   sequence (else: stored twice; a bug unless the client published it twice);
// - lost write: p was acknowledged, nobody read it, yet a message invoked after p's ack was read;
// - each durable reader and drain sees new sequences in order without gaps; a sequence it saw
//   before is a redelivery (counted, not failed), one flagged redelivered is exempt from order
//   (it was sent before and lost in transit); queue groups share a channel and are exempt;
// - real-time order: ack(A) before invoke(B) ⇒ seq(A) < seq(B), by a sweep over invoke times;
// - per-publisher FIFO on each channel: one connection's publishes are stored in invoke order.
import type { Op } from '../history.js';

const EXAMPLES_MAX = 5;

export interface SequenceViolation {
  readonly channel: string;
  readonly detail: string;
}

export interface SequenceResult {
  readonly inconsistentSeqs: number;
  readonly duplicatesByCause: { readonly clientRetry: number; readonly redelivery: number; readonly serverBug: number };
  readonly lostWritesBelowRead: number;
  readonly gaps: number;
  /** Jumps forward whose skipped sequences all came later, flagged redelivered (not failed). */
  readonly excusedJumps: number;
  readonly reorders: number;
  readonly realtimeViolations: number;
  readonly fifoViolations: number;
  readonly examples: readonly SequenceViolation[];
  readonly valid: boolean;
}

interface PublishInfo {
  readonly proc: string;
  readonly channel: string;
  readonly value: string;
  invokeNs: number;
  okNs: number | undefined;
  invokes: number;
}

const key = (channel: string, value: string) => `${channel}\u0000${value}`;

function collectPublishes(history: readonly Op[]): Map<string, PublishInfo> {
  const publishes = new Map<string, PublishInfo>();
  for (const op of history) {
    if (op.f !== 'publish' || op.channel === undefined || op.value === undefined) continue;
    const k = key(op.channel, op.value);
    const found = publishes.get(k);
    if (op.type === 'invoke') {
      if (found) found.invokes++;
      else publishes.set(k, { proc: op.proc, channel: op.channel, value: op.value, invokeNs: op.tMonoNs, okNs: undefined, invokes: 1 });
    } else if (op.type === 'ok' && found && found.okNs === undefined) found.okNs = op.tMonoNs;
  }
  return publishes;
}

/** Checks every property of docs/testing.md §5.5.2 over the deliveries of a history. */
export function checkSequences(history: readonly Op[]): SequenceResult {
  const examples: SequenceViolation[] = [];
  const note = (channel: string, detail: string) => {
    if (examples.length < EXAMPLES_MAX && !examples.some((e) => e.channel === channel && e.detail === detail)) examples.push({ channel, detail });
  };
  const deliveries = history.filter((op) => op.f === 'deliver' && op.type === 'ok' && op.channel !== undefined && op.value !== undefined && op.seq !== undefined);
  const publishes = collectPublishes(history);

  // seq → payload and payload → seq.
  const valueAt = new Map<string, string>();
  const seqsOf = new Map<string, Set<number>>();
  let inconsistentSeqs = 0;
  for (const op of deliveries) {
    const channel = op.channel as string;
    const value = op.value as string;
    const seq = op.seq as number;
    const atKey = `${channel}\u0000${seq}`;
    const seen = valueAt.get(atKey);
    if (seen === undefined) valueAt.set(atKey, value);
    else if (seen !== value) {
      inconsistentSeqs++;
      note(channel, `seq ${seq} read as ${seen} and as ${value}`);
    }
    const vk = key(channel, value);
    let seqs = seqsOf.get(vk);
    if (seqs === undefined) seqsOf.set(vk, (seqs = new Set()));
    seqs.add(seq);
  }
  let clientRetry = 0;
  let serverBug = 0;
  for (const [vk, seqs] of seqsOf) {
    if (seqs.size < 2) continue;
    const [channel = '', value = ''] = vk.split('\u0000');
    if ((publishes.get(vk)?.invokes ?? 0) > 1) clientRetry += seqs.size - 1;
    else {
      serverBug += seqs.size - 1;
      note(channel, `${value} stored at sequences ${[...seqs].join(',')} but published once`);
    }
  }

  const order = checkReaderOrder(deliveries, note);
  const lostWritesBelowRead = checkLostWrites(publishes, seqsOf, note);
  const { realtimeViolations, fifoViolations } = checkPublishOrder(publishes, seqsOf, note);
  return {
    inconsistentSeqs,
    duplicatesByCause: { clientRetry, redelivery: order.redeliveries, serverBug },
    lostWritesBelowRead,
    gaps: order.gaps,
    excusedJumps: order.excusedJumps,
    reorders: order.reorders,
    realtimeViolations,
    fifoViolations,
    examples,
    valid: inconsistentSeqs === 0 && serverBug === 0 && lostWritesBelowRead === 0 && order.gaps === 0 && order.reorders === 0 && realtimeViolations === 0 && fifoViolations === 0,
  };
}

/**
 * Per reader: new sequences must follow the highest one seen by exactly one; repeats are
 * redeliveries. A jump forward is excused when every sequence it skipped comes later flagged
 * redelivered: sent before, lost in transit (a route that went down between a leader and the
 * client's node), and sent again, as at-least-once delivery allows.
 */
function checkReaderOrder(deliveries: readonly Op[], note: (channel: string, detail: string) => void) {
  const readers = new Map<string, { seen: Set<number>; redelivered: Set<number>; max: number; ordered: boolean; jumps: Array<{ from: number; to: number }> }>();
  let redeliveries = 0;
  let reorders = 0;
  for (const op of deliveries) {
    const channel = op.channel as string;
    const seq = op.seq as number;
    const name = `${channel}\u0000${op.reader ?? op.proc}`;
    let state = readers.get(name);
    if (state === undefined) readers.set(name, (state = { seen: new Set(), redelivered: new Set(), max: 0, ordered: op.readerKind !== 'queue', jumps: [] }));
    if (op.redelivered === true) state.redelivered.add(seq);
    if (state.seen.has(seq)) {
      redeliveries++;
      continue;
    }
    state.seen.add(seq);
    // Flagged as redelivered but new to this reader: the server sent it before and it was lost on
    // the way (a dropped connection); it may come back after later sequences.
    if (state.ordered && state.max > 0 && op.redelivered !== true) {
      if (seq > state.max + 1) state.jumps.push({ from: state.max, to: seq });
      else if (seq < state.max) {
        reorders++;
        note(channel, `${op.reader ?? op.proc} got new seq ${seq} after ${state.max}`);
      }
    }
    state.max = Math.max(state.max, seq);
  }
  let gaps = 0;
  let excusedJumps = 0;
  for (const [name, state] of readers) {
    for (const jump of state.jumps) {
      let excused = true;
      for (let seq = jump.from + 1; seq < jump.to && excused; seq++) excused = state.redelivered.has(seq);
      if (excused) {
        excusedJumps++;
        continue;
      }
      gaps++;
      const [channel = '', reader = ''] = name.split('\u0000');
      note(channel, `${reader} jumped from ${jump.from} to ${jump.to}`);
    }
  }
  return { redeliveries, gaps, reorders, excusedJumps };
}

/** Acked publishes nobody read, though a publish invoked after that ack was read. */
function checkLostWrites(publishes: Map<string, PublishInfo>, seqsOf: Map<string, Set<number>>, note: (channel: string, detail: string) => void): number {
  const latestReadInvoke = new Map<string, { invokeNs: number; seq: number }>();
  for (const [vk, seqs] of seqsOf) {
    const pub = publishes.get(vk);
    if (pub === undefined) continue;
    const latest = latestReadInvoke.get(pub.channel);
    if (latest === undefined || pub.invokeNs > latest.invokeNs) latestReadInvoke.set(pub.channel, { invokeNs: pub.invokeNs, seq: Math.min(...seqs) });
  }
  let lost = 0;
  for (const [vk, pub] of publishes) {
    if (pub.okNs === undefined || seqsOf.has(vk)) continue;
    const latest = latestReadInvoke.get(pub.channel);
    if (latest !== undefined && latest.invokeNs > pub.okNs) {
      lost++;
      note(pub.channel, `${pub.value} acked but unread while seq ${latest.seq}, invoked after its ack, was read`);
    }
  }
  return lost;
}

/** Real-time order (sweep by invoke time, tracking the highest sequence already acked) and per-publisher FIFO. */
function checkPublishOrder(publishes: Map<string, PublishInfo>, seqsOf: Map<string, Set<number>>, note: (channel: string, detail: string) => void) {
  const byChannel = new Map<string, { pub: PublishInfo; seq: number }[]>();
  for (const [vk, pub] of publishes) {
    const seqs = seqsOf.get(vk);
    if (seqs === undefined) continue;
    let list = byChannel.get(pub.channel);
    if (list === undefined) byChannel.set(pub.channel, (list = []));
    list.push({ pub, seq: Math.min(...seqs) });
  }
  let realtimeViolations = 0;
  let fifoViolations = 0;
  for (const [channel, list] of byChannel) {
    const byInvoke = [...list].sort((a, b) => a.pub.invokeNs - b.pub.invokeNs);
    const byAck = list.filter((e) => e.pub.okNs !== undefined).sort((a, b) => (a.pub.okNs as number) - (b.pub.okNs as number));
    let next = 0;
    let maxAcked: { seq: number; value: string } | undefined;
    for (const entry of byInvoke) {
      while (next < byAck.length && (byAck[next]?.pub.okNs as number) < entry.pub.invokeNs) {
        const acked = byAck[next++];
        if (acked && (maxAcked === undefined || acked.seq > maxAcked.seq)) maxAcked = { seq: acked.seq, value: acked.pub.value };
      }
      if (maxAcked !== undefined && entry.seq <= maxAcked.seq) {
        realtimeViolations++;
        note(channel, `${maxAcked.value} (seq ${maxAcked.seq}) was acked before ${entry.pub.value} was invoked, yet ${entry.pub.value} has seq ${entry.seq}`);
      }
    }
    const lastSeqOfProc = new Map<string, { seq: number; value: string }>();
    for (const entry of byInvoke) {
      const last = lastSeqOfProc.get(entry.pub.proc);
      if (last !== undefined && entry.seq < last.seq) {
        fifoViolations++;
        note(channel, `${entry.pub.proc} published ${last.value} before ${entry.pub.value}, stored at ${last.seq} > ${entry.seq}`);
      }
      lastSeqOfProc.set(entry.pub.proc, { seq: entry.seq, value: entry.pub.value });
    }
  }
  return { realtimeViolations, fifoViolations };
}
