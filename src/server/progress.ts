// Sent and acked positions of subscriptions, replicated in batches: each delivery and each ack
// is noted on its subscription, and the notes of every subscription go to the state writer as
// one sentAck op per channel — at the end of a turn, at most every PROGRESS_INTERVAL_MS, and not
// before the previous batch is durable (an fsync, a Raft commit), so that a busy server hands
// over fewer, bigger batches. A sequence sent and acked within one batch then need not become
// pending at all (see dropAckedFromSent). A crash or failover loses at most what was not yet
// applied, which only means redelivery. A batch the writer refused (known not applied: Raft back
// pressure, a leadership transfer) is noted again, so that acknowledged messages do not stay
// pending in the records and come back after a failover. Structural ops (unsubscribe, close,
// disconnect, channel deletion) call flush() first, so that they are applied after the positions
// they follow.
import type { Op, SentAndAcked } from '../fsm/ops.js';
import { NotCommittedError, routineWriteFailure } from '../fsm/writer.js';
import type { StateWriter } from '../fsm/writer.js';
import type { Logger } from '../util/logger.js';
import type { Scheduler } from './scheduler.js';
import type { ChannelState, SubscriptionState } from './state.js';

/**
 * A refused batch with more notes than this is not noted again (positions lost then only mean
 * redelivery): one that big may have been refused for its size, and would be again.
 */
const NOTES_AGAIN_MAX = 256 * 1024;
/**
 * Paced batches go at most this often: a sequence sent and acked within one batch costs nothing
 * more (dropAckedFromSent), and acks mostly come back within it. What a crash loses of the
 * positions (redelivered after it) grows by at most this much.
 */
export const PROGRESS_INTERVAL_MS = 10;

export class DeliveryProgress {
  private queued: SubscriptionState[] = [];
  private scheduled = false;
  /** A batch handed over at the end of a turn is not durable yet: the next one waits for it. */
  private pacedInFlight = false;
  /** When the last paced batch was handed over (ms). */
  private pacedAtMs = Number.NEGATIVE_INFINITY;
  private readonly afterPaced = (): void => {
    this.pacedInFlight = false;
    if (this.queued.length > 0) this.schedule();
  };
  private readonly fire = (): void => {
    this.scheduled = false;
    if (!this.pacedInFlight) this.submit(true);
  };

  constructor(
    private readonly writer: StateWriter,
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
    /** Paced batches go at most this often (0: every turn). */
    private readonly intervalMs = PROGRESS_INTERVAL_MS,
  ) {}

  sent(sub: SubscriptionState, seq: number): void {
    sub.unreplicatedSent.push(seq);
    this.enqueue(sub);
  }

  acked(sub: SubscriptionState, seq: number): void {
    sub.unreplicatedAcked.push(seq);
    this.enqueue(sub);
  }

  private enqueue(sub: SubscriptionState): void {
    if (sub.progressQueued) return;
    sub.progressQueued = true;
    this.queued.push(sub);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.pacedInFlight) return;
    this.scheduled = true;
    const waitMs = this.pacedAtMs + this.intervalMs - this.scheduler.nowMs();
    if (waitMs > 0) this.scheduler.setTimeout(this.fire, waitMs);
    else this.scheduler.setImmediate(this.fire);
  }

  /** Hands everything noted so far to the writer at once (applied before later submissions). */
  flush(): void {
    this.submit(false);
  }

  private submit(paced: boolean): void {
    if (this.queued.length === 0) return;
    const subs = this.queued;
    this.queued = [];
    const byChannel = new Map<ChannelState, SentAndAcked[]>();
    const taken: SentAndAcked[] = [];
    for (const sub of subs) {
      sub.progressQueued = false;
      let entries = byChannel.get(sub.channel);
      if (entries === undefined) byChannel.set(sub.channel, (entries = []));
      const sent = sub.unreplicatedSent;
      const acked = sub.unreplicatedAcked;
      if (sent.length > 0 && acked.length > 0) dropAckedFromSent(sent, acked);
      const entry = { subId: sub.id, sent, acked };
      entries.push(entry);
      taken.push(entry);
      sub.unreplicatedSent = [];
      sub.unreplicatedAcked = [];
    }
    const ops: Op[] = [];
    for (const [channel, entries] of byChannel) ops.push({ type: 'sentAck', channel: channel.name, subs: entries });
    const done = this.writer.submit(ops);
    if (paced) {
      this.pacedInFlight = true;
      this.pacedAtMs = this.scheduler.nowMs();
      done.then(this.afterPaced, this.afterPaced);
    }
    done.catch((error: unknown) => {
      // Known not applied (back pressure, leadership moved): noted again; the session's writer
      // settles nothing once it has ended, so an ex-leader does not retry for ever.
      if (error instanceof NotCommittedError) return this.noteAgain(subs, taken);
      // In doubt when the server is stopping or lost leadership after proposing (the new leader
      // redelivers what was not recorded as sent); anything else is a bug.
      if (routineWriteFailure(error)) this.logger.debug({ err: error }, 'delivery progress not replicated');
      else this.logger.error({ err: error }, 'replicating delivery progress failed');
    });
  }

  /**
   * Puts a refused batch back in front of what was noted since. A sequence sent then and no
   * longer pending now was acknowledged (or moved) meanwhile, perhaps in a batch that was applied
   * while this one was not: it is noted as acked too, so that it does not stay pending. An ack
   * of a sequence pending again (sent to the same subscription since) is not repeated.
   */
  private noteAgain(subs: readonly SubscriptionState[], taken: readonly SentAndAcked[]): void {
    let notes = 0;
    for (const entry of taken) notes += entry.sent.length + entry.acked.length;
    if (notes > NOTES_AGAIN_MAX) {
      this.logger.warn({ notes }, 'delivery progress refused by the writer: too big to note again');
      return;
    }
    this.logger.debug({ subs: subs.length, notes }, 'delivery progress refused by the writer: noting it again');
    for (let i = 0; i < subs.length; i++) {
      const sub = subs[i]!;
      const { sent, acked } = taken[i]!;
      const ackedAgain: number[] = [];
      for (const seq of acked) if (!sub.pending.has(seq)) ackedAgain.push(seq);
      for (const seq of sent) if (!sub.pending.has(seq)) ackedAgain.push(seq);
      sub.unreplicatedSent = (sent as number[]).concat(sub.unreplicatedSent);
      sub.unreplicatedAcked = ackedAgain.concat(sub.unreplicatedAcked);
      this.enqueue(sub);
    }
  }
}

/**
 * Removes from `sent`, in place, sequences that `acked` also holds, except the highest sent one.
 * The op applies all of `sent` (pending, lastSent raised) and then all of `acked` (no longer
 * pending), so such a sequence ends not pending whether it is in `sent` or not: leaving it out
 * changes nothing but the work (no pending entry added and removed, no sent and ack records in
 * the FILE store). The highest stays, so lastSent is raised as before. Matches are found by
 * merging, which finds them all when both lists ascend (deliveries and acks in order, the usual
 * case) and some otherwise; every removal is of a sequence that is acked.
 */
export function dropAckedFromSent(sent: number[], acked: readonly number[]): void {
  let max = -1;
  for (let i = 0; i < sent.length; i++) if (sent[i]! > max) max = sent[i]!;
  let j = 0;
  let kept = 0;
  for (let i = 0; i < sent.length; i++) {
    const seq = sent[i]!;
    while (j < acked.length && acked[j]! < seq) j++;
    if (j < acked.length && acked[j] === seq && seq !== max) continue;
    sent[kept++] = seq;
  }
  sent.length = kept;
}
