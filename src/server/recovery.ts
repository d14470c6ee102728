// Restores what a persistent store recovered (PROTOCOL.md §1.8, §1.9): clients with their
// heartbeats, channels, and subscriptions with their pending messages. Pending expirations are
// computed from each message's timestamp, so messages unacked for longer than AckWait are
// redelivered at once, before new ones.
import type { RecoveredState, RecoveredSubscription } from '../store/types.js';
import { NOT_LOADED } from '../store/types.js';
import type { ServerContext } from './context.js';
import type { ClientRegistry } from './clients.js';
import { newChannelState } from './channels.js';
import { durableKey, type ChannelState, type QueueGroupState, type SubscriptionState } from './state.js';

function pendingExpirations(channel: ChannelState, pending: number[], ackWaitMs: number): Map<number, number> {
  const now = Date.now();
  const map = new Map<number, number>();
  for (const seq of pending) {
    const msg = channel.store.msgs.lookupSync(seq);
    const sentMs = msg === undefined || msg === NOT_LOADED ? now - ackWaitMs : Number(msg.timestamp / 1_000_000n);
    map.set(seq, sentMs + ackWaitMs);
  }
  return map;
}

function groupOf(channel: ChannelState, name: string, isDurable: boolean): QueueGroupState {
  let group = channel.queueGroups.get(name);
  if (group === undefined) {
    group = { name, isDurable, lastSent: 0, members: [], shadow: undefined, redeliveryCounts: new Map(), deliveryScheduled: false };
    channel.queueGroups.set(name, group);
  }
  return group;
}

function restoreSub(ctx: ServerContext, channel: ChannelState, recovered: RecoveredSubscription): SubscriptionState | undefined {
  const s = recovered.sub;
  const client = ctx.clients.get(s.clientId);
  const offline = s.isClosed || client === undefined;
  if (offline && !s.isDurable) {
    // A plain subscription whose client is gone has nothing left to serve.
    channel.store.subs.deleteSub(s.id);
    return undefined;
  }
  const ackWaitMs = Math.max(1, s.ackWaitInSecs) * 1000;
  const group = s.qGroup === '' ? undefined : groupOf(channel, s.qGroup, s.isDurable);
  const sub: SubscriptionState = {
    id: s.id,
    channel,
    clientId: s.clientId,
    qGroup: s.qGroup,
    inbox: s.inbox,
    ackInbox: s.ackInbox,
    maxInFlight: Math.max(1, s.maxInFlight),
    ackWaitMs,
    durableName: s.durableName,
    isDurable: s.isDurable,
    isClosed: offline,
    lastSent: s.lastSent,
    pending: pendingExpirations(channel, recovered.pending, ackWaitMs),
    stalled: false,
    ackTimer: undefined,
    ackTimerAtMs: 0,
    initialized: !offline,
    deliveryScheduled: false,
    group,
    redeliveryCounts: new Map(),
    createdMs: Date.now(),
  };
  sub.stalled = sub.pending.size >= sub.maxInFlight;
  if (group !== undefined) {
    group.lastSent = Math.max(group.lastSent, s.lastSent);
    if (offline) group.shadow = sub;
    else group.members.push(sub);
  } else {
    if (s.isDurable) channel.durables.set(durableKey(s.clientId, channel.name, s.durableName), sub);
    channel.subs.add(sub);
  }
  if (!offline) {
    client!.subs.add(sub);
    ctx.subsByAckInbox.set(sub.ackInbox, sub);
  }
  return sub;
}

/**
 * Rebuilds the server state; returns the ack inboxes of restored subscriptions that the
 * server's wildcard ack subscription does not cover (they were handed out by an earlier run).
 */
export function restoreState(ctx: ServerContext, registry: ClientRegistry, recovered: RecoveredState): string[] {
  for (const info of recovered.clients) registry.restore(info);
  const foreignAckInboxes: string[] = [];
  const online: SubscriptionState[] = [];
  for (const { channel: stored, subscriptions } of recovered.channels) {
    const channel = newChannelState(ctx, stored.name, stored);
    ctx.channels.set(stored.name, channel);
    for (const recoveredSub of subscriptions) {
      const sub = restoreSub(ctx, channel, recoveredSub);
      if (sub === undefined || sub.isClosed) continue;
      online.push(sub);
      if (!sub.ackInbox.startsWith(ctx.ackPrefix)) foreignAckInboxes.push(sub.ackInbox);
    }
  }
  // Messages unacked for longer than AckWait go out first, then the rest in order.
  for (const sub of online) {
    ctx.delivery.redeliverExpired(sub);
    ctx.delivery.schedule(sub);
  }
  ctx.logger.info(
    { clients: recovered.clients.length, channels: recovered.channels.length, subscriptions: online.length },
    'state recovered from the store',
  );
  return foreignAckInboxes;
}
