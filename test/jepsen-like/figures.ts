// The figures of docs/testing.md §5.7 that a standalone node has, computed from a history and the
// checkers' verdict: counts, loss and duplicates by cause, the longest gap between successful
// acks, publish latency, end-to-end delivery latency and recovery after each fault.
import type { HistoryVerdict } from './checkers/check-history.js';
import type { FaultEvent } from './faults.js';
import type { Op } from './history.js';

export interface Figures {
  attempts: number;
  acked: number;
  definiteFail: number;
  indeterminate: number;
  delivered: number;
  deliveries: number;
  recovered: number;
  lost: { total: number; prefix: number; middle: number; postfix: number };
  unexpected: number;
  readerMissed: number;
  /** Acknowledged values the final fresh deliver-all readers did not find: gone from the end state. */
  absentFromDrain: number;
  duplicates: { clientRetry: number; redelivery: number; serverBug: number };
  inconsistentSeqs: number;
  orderViolations: { gaps: number; reorders: number; realtime: number; fifo: number };
  /** Jumps forward later filled by redeliveries (messages lost in transit): counted, not failed. */
  excusedJumps: number;
  drainsIncomplete: number;
  longestAckGapMs: number;
  publishMs: { p50: number; p99: number; max: number };
  endToEndP99Ms: number;
  acks: { sent: number; dropped: number };
  connects: { ok: number; retries: number; lost: number };
  faults: FaultFigures[];
}

export interface FaultFigures {
  kind: string;
  node: string;
  atMs: number;
  durationMs: number;
  firstAckAfterStartMs: number | null;
  firstAckAfterEndMs: number | null;
  /** Consumer crashes: sequences the subscriber got again after the crash, and how many of those it had acked. */
  redelivered?: number;
  redeliveredAfterAck?: number;
}

/** What a crashed subscriber got again: only un-acked messages should come back (an ack in flight may be lost too). */
function consumerRedeliveries(history: readonly Op[], proc: string, crashNs: number): { redelivered: number; redeliveredAfterAck: number } {
  const before = new Set<number>();
  const ackedBefore = new Set<number>();
  const again = new Set<number>();
  for (const op of history) {
    if (op.proc !== proc || op.seq === undefined) continue;
    if (op.tMonoNs <= crashNs) {
      if (op.f === 'deliver') before.add(op.seq);
      else if (op.f === 'ack' && op.type === 'info') ackedBefore.add(op.seq);
    } else if (op.f === 'deliver' && before.has(op.seq)) again.add(op.seq);
  }
  let redeliveredAfterAck = 0;
  for (const seq of again) if (ackedBefore.has(seq)) redeliveredAfterAck++;
  return { redelivered: again.size, redeliveredAfterAck };
}

const ms = (ns: number) => Math.round(ns / 1e5) / 10;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export function computeFigures(history: readonly Op[], verdict: HistoryVerdict, faults: readonly FaultEvent[]): Figures {
  const invokeAt = new Map<string, number>();
  const firstDelivery = new Map<string, number>();
  const latencies: number[] = [];
  const ackTimes: number[] = [];
  const count = { attempts: 0, acked: 0, fail: 0, info: 0, deliveries: 0, acksSent: 0, acksDropped: 0, connectOk: 0, connectRetries: 0, lost: 0 };
  for (const op of history) {
    const k = `${op.channel ?? ''}\u0000${op.value ?? ''}`;
    if (op.f === 'publish') {
      if (op.type === 'invoke') {
        count.attempts++;
        invokeAt.set(k, op.tMonoNs);
      } else if (op.type === 'ok') {
        count.acked++;
        ackTimes.push(op.tMonoNs);
        latencies.push(op.tMonoNs - (invokeAt.get(k) ?? op.tMonoNs));
      } else if (op.type === 'fail') count.fail++;
      else count.info++;
    } else if (op.f === 'deliver' && op.type === 'ok') {
      count.deliveries++;
      if (op.readerKind !== 'drain' && !firstDelivery.has(k)) firstDelivery.set(k, op.tMonoNs);
    } else if (op.f === 'ack') {
      if (op.type === 'fail') count.acksDropped++;
      else count.acksSent++;
    } else if (op.f === 'connect') {
      if (op.type === 'ok') count.connectOk++;
      else if (op.type === 'info' && op.value !== undefined) count.connectRetries++;
      else if (op.type === 'info') count.lost++;
    }
  }
  latencies.sort((a, b) => a - b);
  ackTimes.sort((a, b) => a - b);
  let longestGap = 0;
  for (let i = 1; i < ackTimes.length; i++) longestGap = Math.max(longestGap, (ackTimes[i] as number) - (ackTimes[i - 1] as number));
  const endToEnd = [...firstDelivery].map(([k, t]) => t - (invokeAt.get(k) ?? t)).sort((a, b) => a - b);
  const origin = history[0]?.tMonoNs ?? 0;
  const lost = { total: 0, prefix: 0, middle: 0, postfix: 0 };
  let recovered = 0;
  let unexpected = 0;
  let readerMissed = 0;
  const delivered = new Set<string>();
  for (const q of verdict.queues) {
    lost.total += q.all.lost;
    lost.prefix += q.lostSplit.prefix;
    lost.middle += q.lostSplit.middle;
    lost.postfix += q.lostSplit.postfix;
    recovered += q.all.recovered;
    unexpected += q.all.unexpected;
    for (const r of Object.values(q.readers)) readerMissed += r.lost;
  }
  for (const op of history) if (op.f === 'deliver' && op.type === 'ok') delivered.add(`${op.channel ?? ''}\u0000${op.value ?? ''}`);
  const s = verdict.sequences;
  return {
    attempts: count.attempts,
    acked: count.acked,
    definiteFail: count.fail,
    indeterminate: count.info,
    delivered: delivered.size,
    deliveries: count.deliveries,
    recovered,
    lost,
    unexpected,
    readerMissed,
    absentFromDrain: verdict.absentFromDrain,
    duplicates: { ...s.duplicatesByCause },
    inconsistentSeqs: s.inconsistentSeqs,
    orderViolations: { gaps: s.gaps, reorders: s.reorders, realtime: s.realtimeViolations, fifo: s.fifoViolations },
    excusedJumps: s.excusedJumps,
    drainsIncomplete: verdict.drainsIncomplete,
    longestAckGapMs: ms(longestGap),
    publishMs: { p50: ms(percentile(latencies, 50)), p99: ms(percentile(latencies, 99)), max: ms(latencies.at(-1) ?? 0) },
    endToEndP99Ms: ms(percentile(endToEnd, 99)),
    acks: { sent: count.acksSent, dropped: count.acksDropped },
    connects: { ok: count.connectOk, retries: count.connectRetries, lost: count.lost },
    faults: faults.map((f): FaultFigures => {
      const afterStart = ackTimes.find((t) => t > f.startNs);
      const afterEnd = ackTimes.find((t) => t > f.endNs);
      return {
        kind: f.kind,
        node: f.node,
        atMs: ms(f.startNs - origin),
        durationMs: ms(f.endNs - f.startNs),
        firstAckAfterStartMs: afterStart === undefined ? null : ms(afterStart - f.startNs),
        firstAckAfterEndMs: afterEnd === undefined ? null : ms(afterEnd - f.endNs),
        ...(f.kind === 'consumer-crash' ? consumerRedeliveries(history, f.node, f.endNs) : {}),
      };
    }),
  };
}
