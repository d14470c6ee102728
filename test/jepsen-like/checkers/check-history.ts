// Runs every checker over one history and gives a single verdict with its reasons. A drain that
// did not complete is a harness error (docs/testing.md §5.4): without it, no loss can be ruled out.
import type { Op } from '../history.js';
import { checkSequences, type SequenceResult } from './sequences.js';
import { checkTotalQueue, type ChannelQueueResult } from './total-queue.js';

export interface HistoryVerdict {
  readonly queues: readonly ChannelQueueResult[];
  readonly sequences: SequenceResult;
  readonly drainsIncomplete: number;
  /** Acknowledged values the final fresh deliver-all read of their channel did not find. */
  readonly absentFromDrain: number;
  readonly reasons: readonly string[];
  readonly valid: boolean;
  readonly checkerMs: number;
}

/**
 * Acknowledged values missing from the final deliver-all read of their channel: read earlier by a
 * subscriber (so total-queue counts them), yet gone from the channel at the end.
 */
function absentFromFinalRead(history: readonly Op[]): { count: number; examples: string[] } {
  const drainedChannels = new Set<string>();
  const drained = new Set<string>();
  for (const op of history) {
    if (op.f === 'drain' && op.type === 'ok' && op.reader === undefined && op.channel !== undefined && op.proc.startsWith('drain-')) drainedChannels.add(op.channel);
    if (op.f === 'deliver' && op.type === 'ok' && op.readerKind === 'drain') drained.add(`${op.channel ?? ''}\u0000${op.value ?? ''}`);
  }
  const examples: string[] = [];
  let count = 0;
  for (const op of history) {
    if (op.f !== 'publish' || op.type !== 'ok' || op.channel === undefined || !drainedChannels.has(op.channel)) continue;
    if (drained.has(`${op.channel}\u0000${op.value ?? ''}`)) continue;
    count++;
    if (examples.length < 3) examples.push(`${op.channel}/${op.value}`);
  }
  return { count, examples };
}

function countIncompleteDrains(history: readonly Op[]): number {
  const open = new Map<string, number>();
  for (const op of history) {
    if (op.f !== 'drain') continue;
    const k = `${op.proc}\u0000${op.channel ?? ''}`;
    const delta = op.type === 'invoke' ? 1 : op.type === 'ok' ? -1 : 0;
    open.set(k, (open.get(k) ?? 0) + delta);
  }
  let incomplete = 0;
  for (const count of open.values()) incomplete += Math.max(0, count);
  return incomplete;
}

export function checkHistory(history: readonly Op[]): HistoryVerdict {
  const started = performance.now();
  const queues = checkTotalQueue(history);
  const sequences = checkSequences(history);
  const drainsIncomplete = countIncompleteDrains(history);
  const absent = absentFromFinalRead(history);
  const reasons: string[] = [];
  if (absent.count > 0) reasons.push(`${absent.count} acknowledged values absent from the final deliver-all read (e.g. ${absent.examples.join(', ')})`);
  for (const q of queues) {
    if (q.all.lost > 0) reasons.push(`${q.channel}: ${q.all.lost} acknowledged values lost (e.g. ${q.all.lostValues.slice(0, 3).join(', ')})`);
    if (q.all.unexpected > 0) reasons.push(`${q.channel}: ${q.all.unexpected} unexpected values (e.g. ${q.all.unexpectedValues.slice(0, 3).join(', ')})`);
    for (const [reader, r] of Object.entries(q.readers)) {
      if (r.lost > 0 && q.all.lost === 0) reasons.push(`${q.channel}: reader ${reader} missed ${r.lost} acknowledged values (e.g. ${r.lostValues.slice(0, 3).join(', ')})`);
    }
  }
  const s = sequences;
  if (s.inconsistentSeqs > 0) reasons.push(`${s.inconsistentSeqs} sequences read with two payloads`);
  if (s.duplicatesByCause.serverBug > 0) reasons.push(`${s.duplicatesByCause.serverBug} payloads stored at two sequences without a client retry`);
  if (s.lostWritesBelowRead > 0) reasons.push(`${s.lostWritesBelowRead} acknowledged writes lost below a sequence that was read`);
  if (s.gaps > 0) reasons.push(`${s.gaps} gaps in a reader's sequences`);
  if (s.reorders > 0) reasons.push(`${s.reorders} new sequences delivered below one already read`);
  if (s.realtimeViolations > 0) reasons.push(`${s.realtimeViolations} real-time order violations`);
  if (s.fifoViolations > 0) reasons.push(`${s.fifoViolations} per-publisher order violations`);
  if (drainsIncomplete > 0) reasons.push(`${drainsIncomplete} drains did not complete (harness error)`);
  for (const example of s.examples) reasons.push(`example ${example.channel}: ${example.detail}`);
  const valid = queues.every((q) => q.valid) && sequences.valid && drainsIncomplete === 0 && absent.count === 0;
  return { queues, sequences, drainsIncomplete, absentFromDrain: absent.count, reasons, valid, checkerMs: performance.now() - started };
}
