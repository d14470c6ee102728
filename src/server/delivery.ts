// Message delivery to subscriptions: new messages in sequence order under MaxInFlight, queue
// group member choice, acks, and AckWait redelivery. Everything runs inside NATS and store
// callbacks or timers, synchronously: no Promise per message. Only what is durable is delivered:
// a pass reads up to the channel's `deliverable` watermark, never the store's last sequence, so
// that a crash can never hand a sequence a subscriber has seen to another payload. Sent and
// acked positions are noted in DeliveryProgress, which replicates them in batches.
import type { Logger } from 'pino';
import type { NatsConnection } from '../transport/nats/connection.js';
import { encodeMsgProto, msgProtoDataLength, type MsgProto } from '../store/records.js';
import { NOT_LOADED, type Channel, type NotLoaded } from '../store/types.js';
import type { ChannelState, QueueGroupState, SubscriptionState } from './state.js';
import type { DeliveryProgress } from './progress.js';
import type { Scheduler } from './scheduler.js';

/** Expired entries within this slack of now are redelivered in the same pass (as the reference). */
const REDELIVERY_SLACK_MS = 15;
/** A departed queue member's pending messages reach the remaining members after this delay. */
const REASSIGN_DELAY_MS = 100;

export interface DeliveryHooks {
  /** False while the subscription's client misses heartbeats: plain subs skip redelivery then. */
  isClientHealthy(clientId: string): boolean;
  onDelivered?(sub: SubscriptionState, bytes: number, redelivered: boolean): void;
}

export class Delivery {
  /** The last message read asynchronously per channel (stores with asyncLookup only). */
  private readonly prefetched = new Map<string, MsgProto>();
  /** First-delivery encodings shared by the receivers of one deliverNew pass. */
  private encoded: Map<number, Buffer> | undefined;
  /** Nothing new is sent (a session draining before a handover waits for outstanding acks). */
  private holding = false;
  /** The clock for ack deadlines of first deliveries (one reading per task where the scheduler has it). */
  private readonly deliveryNowMs: () => number;

  constructor(
    private readonly send: NatsConnection,
    private readonly batchMax: number,
    private readonly hooks: DeliveryHooks,
    private readonly logger: Logger,
    private readonly progress: DeliveryProgress,
    private readonly scheduler: Scheduler,
  ) {
    this.deliveryNowMs = scheduler.taskNowMs?.bind(scheduler) ?? (() => scheduler.nowMs());
  }

  /** After a store write: every online subscription of the channel gets what it can take. */
  /** Stops sending messages for the first time; what is pending may still be acknowledged. */
  holdNew(): void {
    this.holding = true;
  }

  deliverNew(channel: ChannelState): void {
    if (this.holding) return;
    // With several receivers each new message is encoded once for all of them (unless the
    // store keeps its messages encoded).
    const shared = channel.subs.size + channel.queueGroups.size > 1 && channel.store.msgs.lookupEncodedSync === undefined;
    if (shared) this.encoded = new Map();
    // Bounded per turn: a subscriber far behind catches up over several turns.
    for (const sub of channel.subs) {
      if (this.canTakeNew(sub) && this.deliverToSub(sub, this.batchMax)) this.schedule(sub);
    }
    for (const group of channel.queueGroups.values()) {
      const head = group.members[0];
      if (head !== undefined && this.deliverToGroup(group, this.batchMax)) this.schedule(head);
    }
    if (shared) this.encoded = undefined;
  }

  /** Delivery of a backlog in bounded passes, one per event-loop turn. */
  schedule(sub: SubscriptionState): void {
    const group = sub.group;
    if (group) {
      if (group.deliveryScheduled) return;
      group.deliveryScheduled = true;
      this.scheduler.setImmediate(() => {
        group.deliveryScheduled = false;
        this.guard(() => {
          if (this.deliverToGroup(group, this.batchMax)) this.schedule(sub);
        });
      });
      return;
    }
    if (sub.deliveryScheduled) return;
    sub.deliveryScheduled = true;
    this.scheduler.setImmediate(() => {
      sub.deliveryScheduled = false;
      this.guard(() => {
        if (this.canTakeNew(sub) && this.deliverToSub(sub, this.batchMax)) this.schedule(sub);
      });
    });
  }

  private canTakeNew(sub: SubscriptionState): boolean {
    return !this.holding && !sub.isClosed && sub.initialized && !sub.closing && !sub.stalled;
  }

  /** Work started from a timer or setImmediate: a failure is logged, never fatal to the server. */
  private guard(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.logger.error({ err: error }, 'delivery failed');
    }
  }

  /** Sends up to `budget` messages; returns true when more are available and the sub can take them. */
  private deliverToSub(sub: SubscriptionState, budget: number): boolean {
    const store = sub.channel.store;
    const last = sub.channel.deliverable;
    // Ack deadlines: each ack of a stalled subscription starts a pass, so not a clock call each.
    const now = this.deliveryNowMs();
    while (sub.lastSent < last && !sub.stalled) {
      if (budget-- <= 0) return true;
      let seq = sub.lastSent + 1;
      const first = store.msgs.firstSequence();
      if (seq < first) seq = first;
      const bytes = this.firstBytes(store, seq);
      if (bytes === NOT_LOADED) {
        this.prefetch(store, seq, () => this.schedule(sub));
        return false;
      }
      sub.lastSent = seq;
      if (bytes === undefined) continue;
      this.sendFirst(sub, seq, bytes, now);
    }
    return false;
  }

  private deliverToGroup(group: QueueGroupState, budget: number): boolean {
    const head = group.members[0];
    if (head === undefined || this.holding) return false;
    const store = head.channel.store;
    const last = head.channel.deliverable;
    const now = this.deliveryNowMs();
    while (group.lastSent < last) {
      const member = this.pickMember(group, false);
      if (member === undefined) return false;
      if (budget-- <= 0) return true;
      let seq = group.lastSent + 1;
      const first = store.msgs.firstSequence();
      if (seq < first) seq = first;
      const bytes = this.firstBytes(store, seq);
      if (bytes === NOT_LOADED) {
        this.prefetch(store, seq, () => this.schedule(member));
        return false;
      }
      group.lastSent = seq;
      if (bytes === undefined) continue;
      member.lastSent = seq;
      this.sendFirst(member, seq, bytes, now);
    }
    return false;
  }

  /**
   * The member with the fewest pending acks among those that can take a message (healthy,
   * initialized, not stalled unless `forced`), rotated to the end for round-robin on ties.
   */
  private pickMember(group: QueueGroupState, forced: boolean): SubscriptionState | undefined {
    let best: SubscriptionState | undefined;
    let bestIndex = -1;
    const members = group.members;
    for (let i = 0; i < members.length; i++) {
      const m = members[i]!;
      if (!m.initialized || m.closing || (!forced && m.stalled)) continue;
      if (!this.hooks.isClientHealthy(m.clientId)) continue;
      if (best === undefined || m.pending.size < best.pending.size) {
        best = m;
        bestIndex = i;
      }
    }
    if (best === undefined && forced) {
      best = members.find((m) => m.initialized && !m.closing);
      bestIndex = best === undefined ? -1 : members.indexOf(best);
    }
    if (best !== undefined && bestIndex !== members.length - 1) {
      members.splice(bestIndex, 1);
      members.push(best);
    }
    return best;
  }

  /**
   * What the first delivery of `seq` sends: the store's own encoding when it keeps one (nothing
   * encoded per delivery), else the message encoded here, once per pass for all its receivers.
   */
  private firstBytes(store: Channel, seq: number): Uint8Array | undefined | NotLoaded {
    const msgs = store.msgs;
    if (msgs.lookupEncodedSync !== undefined) return msgs.lookupEncodedSync(seq);
    const msg = this.lookup(store, seq);
    if (msg === NOT_LOADED || msg === undefined) return msg;
    let bytes = this.encoded?.get(seq);
    if (bytes === undefined) {
      bytes = encodeMsgProto(msg);
      this.encoded?.set(seq, bytes);
    }
    return bytes;
  }

  private sendFirst(sub: SubscriptionState, seq: number, bytes: Uint8Array, now: number): void {
    this.send.publish(sub.inbox, bytes);
    const expiration = now + sub.ackWaitMs;
    sub.pending.set(seq, expiration);
    this.progress.sent(sub, seq);
    if (sub.pending.size >= sub.maxInFlight) sub.stalled = true;
    if (sub.ackTimer === undefined) this.armAckTimer(sub, expiration);
    this.hooks.onDelivered?.(sub, msgProtoDataLength(bytes), false);
  }

  private sendRedelivery(sub: SubscriptionState, msg: MsgProto, counts: Map<number, number>): void {
    const count = (counts.get(msg.sequence) ?? 0) + 1;
    counts.set(msg.sequence, count);
    const bytes = encodeMsgProto({ ...msg, redelivered: true, redeliveryCount: count });
    this.send.publish(sub.inbox, bytes);
    this.hooks.onDelivered?.(sub, msg.data.length, true);
  }

  /**
   * A message from memory. A store that keeps messages on disk may answer NOT_LOADED; then the
   * message is read asynchronously into `prefetched` and the pass resumes.
   */
  private lookup(store: Channel, sequence: number): MsgProto | undefined | NotLoaded {
    const prefetched = this.prefetched.get(store.name);
    if (prefetched !== undefined && prefetched.sequence === sequence) return prefetched;
    return store.msgs.lookupSync(sequence);
  }

  private prefetch(store: Channel, sequence: number, resume: () => void): void {
    store.msgs.lookup(sequence).then(
      (msg) => {
        if (msg !== undefined) this.prefetched.set(store.name, msg);
        resume();
      },
      (error: unknown) => this.logger.error({ err: error, channel: store.name, sequence }, 'message lookup failed'),
    );
  }

  armAckTimer(sub: SubscriptionState, atMs: number): void {
    if (sub.ackTimer !== undefined) {
      if (sub.ackTimerAtMs <= atMs) return;
      this.scheduler.clearTimeout(sub.ackTimer);
    }
    sub.ackTimerAtMs = atMs;
    sub.ackTimer = this.scheduler.setTimeout(() => this.guard(() => this.onAckTimer(sub)), Math.max(0, atMs - this.scheduler.nowMs()));
  }

  stopAckTimer(sub: SubscriptionState): void {
    if (sub.ackTimer !== undefined) this.scheduler.clearTimeout(sub.ackTimer);
    sub.ackTimer = undefined;
    sub.ackTimerAtMs = 0;
  }

  /** Processes one ack; returns false when the sequence was not pending anywhere. */
  ack(sub: SubscriptionState, sequence: number): boolean {
    let owner: SubscriptionState | undefined = sub;
    if (!sub.pending.delete(sequence)) {
      owner = sub.group?.members.find((m) => m.pending.has(sequence));
      if (owner === undefined) return false;
      owner.pending.delete(sequence);
    }
    this.progress.acked(owner, sequence);
    const counts = owner.group?.redeliveryCounts ?? owner.redeliveryCounts;
    if (counts.size !== 0) counts.delete(sequence);
    if (owner.pending.size === 0) this.stopAckTimer(owner);
    if (owner.stalled && owner.pending.size < owner.maxInFlight) {
      owner.stalled = false;
      if (owner.group) {
        if (this.deliverToGroup(owner.group, this.batchMax)) this.schedule(owner);
      } else if (this.canTakeNew(owner) && this.deliverToSub(owner, this.batchMax)) this.schedule(owner);
    }
    return true;
  }

  private onAckTimer(sub: SubscriptionState): void {
    this.redeliverExpired(sub);
  }

  /** Redelivers every expired pending message now and re-arms the timer for the rest. */
  redeliverExpired(sub: SubscriptionState): void {
    if (sub.ackTimer !== undefined) this.scheduler.clearTimeout(sub.ackTimer);
    sub.ackTimer = undefined;
    sub.ackTimerAtMs = 0;
    if (sub.isClosed || !sub.initialized || sub.closing || sub.pending.size === 0) return;
    const now = this.scheduler.nowMs();
    if (!sub.group && !this.hooks.isClientHealthy(sub.clientId)) {
      // A plain sub of a client that misses heartbeats waits for the client to answer again.
      this.armAckTimer(sub, now + sub.ackWaitMs);
      return;
    }
    const expired: Array<[number, number]> = [];
    for (const entry of sub.pending) if (entry[1] <= now + REDELIVERY_SLACK_MS) expired.push(entry);
    expired.sort((a, b) => a[1] - b[1] || a[0] - b[0]);
    for (const [sequence] of expired) this.redeliver(sub, sequence, now);
    this.rearm(sub);
    if (sub.group) for (const m of sub.group.members) if (m !== sub) this.rearm(m);
  }

  /** Arms the ack timer for the earliest pending expiration, if any. */
  rearm(sub: SubscriptionState): void {
    let next = Number.MAX_SAFE_INTEGER;
    for (const expiration of sub.pending.values()) if (expiration < next) next = expiration;
    if (next !== Number.MAX_SAFE_INTEGER) this.armAckTimer(sub, next);
  }

  /** Redelivers one pending message, possibly to another queue member (the original is then relieved of it). */
  private redeliver(sub: SubscriptionState, sequence: number, now: number): void {
    const store = sub.channel.store;
    const msg = this.lookup(store, sequence);
    if (msg === NOT_LOADED) {
      this.prefetch(store, sequence, () => undefined);
      sub.pending.set(sequence, now + REASSIGN_DELAY_MS);
      return;
    }
    if (msg === undefined) {
      // Dropped by limits meanwhile: acknowledged on the client's behalf, as the reference does.
      sub.pending.delete(sequence);
      this.progress.acked(sub, sequence);
      (sub.group?.redeliveryCounts ?? sub.redeliveryCounts).delete(sequence);
      return;
    }
    let target = sub;
    if (sub.group) {
      target = this.pickMember(sub.group, true) ?? sub;
      if (target !== sub) {
        sub.pending.delete(sequence);
        this.progress.acked(sub, sequence);
        this.progress.sent(target, sequence);
      }
    }
    target.pending.set(sequence, now + target.ackWaitMs);
    if (target.pending.size >= target.maxInFlight) target.stalled = true;
    this.sendRedelivery(target, msg, sub.group?.redeliveryCounts ?? sub.redeliveryCounts);
  }

  /**
   * Redelivers everything pending on a subscription at once, ignoring MaxInFlight: used when a
   * durable resumes or a shadow's group gets a member again.
   */
  redeliverAllPending(sub: SubscriptionState): void {
    const now = this.scheduler.nowMs();
    const sequences = [...sub.pending.keys()];
    for (const sequence of sequences) {
      const msg = this.lookup(sub.channel.store, sequence);
      if (msg === NOT_LOADED) {
        this.prefetch(sub.channel.store, sequence, () => undefined);
        sub.pending.set(sequence, now + REASSIGN_DELAY_MS);
        continue;
      }
      if (msg === undefined) {
        sub.pending.delete(sequence);
        this.progress.acked(sub, sequence);
        continue;
      }
      sub.pending.set(sequence, now + sub.ackWaitMs);
      this.sendRedelivery(sub, msg, sub.group?.redeliveryCounts ?? sub.redeliveryCounts);
    }
    sub.stalled = sub.pending.size >= sub.maxInFlight;
    this.rearm(sub);
  }

  /** Pending messages handed to `target` by a departed member: due soon, as in the reference. */
  takeReassigned(target: SubscriptionState, sequence: number): void {
    target.pending.set(sequence, this.scheduler.nowMs() + REASSIGN_DELAY_MS);
    if (target.pending.size >= target.maxInFlight) target.stalled = true;
    this.rearm(target);
  }
}
