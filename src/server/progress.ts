// Sent and acked positions of subscriptions, replicated in batches: each delivery and each ack
// is noted on its subscription, and once per event-loop turn the notes of every subscription go
// to the state writer as one sentAck op per channel. A crash or failover loses at most what was
// not yet applied, which only means redelivery. Structural ops (unsubscribe, close, disconnect,
// channel deletion) call flush() first, so that they are applied after the positions they follow.
import type { Op, SentAndAcked } from '../fsm/ops.js';
import { routineWriteFailure } from '../fsm/writer.js';
import type { StateWriter } from '../fsm/writer.js';
import type { Logger } from '../util/logger.js';
import type { Scheduler } from './scheduler.js';
import type { ChannelState, SubscriptionState } from './state.js';

export class DeliveryProgress {
  private queued: SubscriptionState[] = [];
  private scheduled = false;

  constructor(
    private readonly writer: StateWriter,
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
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
    if (this.scheduled) return;
    this.scheduled = true;
    this.scheduler.setImmediate(() => this.flush());
  }

  /** Hands everything noted so far to the writer (at once; applied before later submissions). */
  flush(): void {
    this.scheduled = false;
    if (this.queued.length === 0) return;
    const subs = this.queued;
    this.queued = [];
    const byChannel = new Map<ChannelState, SentAndAcked[]>();
    for (const sub of subs) {
      sub.progressQueued = false;
      let entries = byChannel.get(sub.channel);
      if (entries === undefined) byChannel.set(sub.channel, (entries = []));
      entries.push({ subId: sub.id, sent: sub.unreplicatedSent, acked: sub.unreplicatedAcked });
      sub.unreplicatedSent = [];
      sub.unreplicatedAcked = [];
    }
    const ops: Op[] = [];
    for (const [channel, entries] of byChannel) ops.push({ type: 'sentAck', channel: channel.name, subs: entries });
    this.writer.submit(ops).catch((error: unknown) => {
      // Routine when the server is stopping or leadership moved (the new leader redelivers what
      // was not recorded as sent); anything else is a bug.
      if (routineWriteFailure(error)) this.logger.debug({ err: error }, 'delivery progress not replicated');
      else this.logger.error({ err: error }, 'replicating delivery progress failed');
    });
  }
}
