// The serving runtime rebuilt from the replicated records, when a node starts serving (after a
// standalone restart today; on gaining leadership in a cluster): clients with their heartbeats,
// channels with their timers, subscriptions with their pending messages. Pending expirations are
// computed from each message's timestamp, so messages unacked for longer than AckWait are
// redelivered at once, before new ones.
import { NOT_LOADED } from '../store/types.js';
import type { SubRecord } from '../fsm/records.js';
import type { ServerContext } from './context.js';
import type { ClientRegistry } from './clients.js';
import { armInactivity, newChannelState, scheduleExpiry } from './channels.js';
import { newQueueGroupState, newSubscriptionState } from './subscribe.js';
import { durableKey, type ChannelState, type QueueGroupState, type SubscriptionState } from './state.js';

function pendingExpirations(ctx: ServerContext, channel: ChannelState, record: SubRecord, ackWaitMs: number): Map<number, number> {
  const now = ctx.scheduler.nowMs();
  const map = new Map<number, number>();
  for (const seq of record.pending) {
    const msg = channel.store.msgs.lookupSync(seq);
    const sentMs = msg === undefined || msg === NOT_LOADED ? now - ackWaitMs : Number(msg.timestamp / 1_000_000n);
    map.set(seq, sentMs + ackWaitMs);
  }
  return map;
}

function restoreSub(ctx: ServerContext, channel: ChannelState, record: SubRecord, group: QueueGroupState | undefined): SubscriptionState {
  const sub = newSubscriptionState(ctx, channel, record, group);
  for (const [seq, expiration] of pendingExpirations(ctx, channel, record, sub.ackWaitMs)) sub.pending.set(seq, expiration);
  sub.stalled = sub.pending.size >= sub.maxInFlight;
  return sub;
}

/**
 * Builds the runtime of every record; returns the ack inboxes of online subscriptions that the
 * server's wildcard ack subscription does not cover (handed out by an earlier run or leader).
 */
export function rebuildRuntime(ctx: ServerContext, registry: ClientRegistry): string[] {
  const state = ctx.fsm.state;
  for (const record of state.clients.values()) registry.adopt(record);
  const foreignAckInboxes: string[] = [];
  const online: SubscriptionState[] = [];
  for (const channelRecord of state.channels.values()) {
    const channel = newChannelState(channelRecord);
    ctx.channels.set(channel.name, channel);
    for (const groupRecord of channelRecord.groups.values()) {
      const group = newQueueGroupState(groupRecord);
      channel.queueGroups.set(group.name, group);
      for (const member of groupRecord.members) group.members.push(restoreSub(ctx, channel, member, group));
      if (groupRecord.shadow !== undefined) group.shadow = restoreSub(ctx, channel, groupRecord.shadow, group);
      online.push(...group.members);
    }
    for (const record of channelRecord.subs.values()) {
      if (record.group !== undefined) continue;
      const sub = restoreSub(ctx, channel, record, undefined);
      channel.subs.add(sub);
      if (sub.isDurable) channel.durables.set(durableKey(sub.clientId, channel.name, sub.durableName), sub);
      if (!sub.isClosed) online.push(sub);
    }
    armInactivity(ctx, channel);
    scheduleExpiry(ctx, channel);
  }
  for (const sub of online) {
    ctx.clients.get(sub.clientId)?.subs.add(sub);
    ctx.subsByAckInbox.set(sub.ackInbox, sub);
    sub.initialized = true;
    if (!sub.ackInbox.startsWith(ctx.ackPrefix)) foreignAckInboxes.push(sub.ackInbox);
  }
  // Messages unacked for longer than AckWait go out first, then the rest in order.
  for (const sub of online) {
    ctx.delivery.redeliverExpired(sub);
    ctx.delivery.schedule(sub);
  }
  ctx.logger.info({ clients: state.clients.size, channels: state.channels.size, subscriptions: online.length }, 'serving from the recovered state');
  return foreignAckInboxes;
}
