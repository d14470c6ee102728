// Unsubscribe (state deleted) versus close (durable state kept), for one subscription or for all
// of a closing client's (PROTOCOL.md §1.9, §1.10).
import { StanErrors } from './errors.js';
import type { UnsubscribeRequest } from './protocol.js';
import type { ServerContext } from './context.js';
import { armInactivity } from './channels.js';
import { durableKey, type SubscriptionState } from './state.js';
import { toSubState } from './subscribe.js';

function detach(ctx: ServerContext, sub: SubscriptionState): void {
  ctx.delivery.stopAckTimer(sub);
  ctx.subsByAckInbox.delete(sub.ackInbox);
  ctx.clients.get(sub.clientId)?.subs.delete(sub);
  sub.initialized = false;
}

function forget(ctx: ServerContext, sub: SubscriptionState): void {
  sub.channel.store.subs.deleteSub(sub.id);
  ctx.subsFlusher.markDirty(sub.channel.store.subs);
  sub.pending.clear();
}

/**
 * Removes a subscription from its client. `unsubscribe` deletes durable state; a close keeps a
 * durable (offline) and keeps a durable queue group as a shadow when its last member leaves.
 */
export function closeSubscription(ctx: ServerContext, sub: SubscriptionState, unsubscribe: boolean): void {
  const channel = sub.channel;
  detach(ctx, sub);
  const group = sub.group;
  if (group !== undefined) {
    const index = group.members.indexOf(sub);
    if (index >= 0) group.members.splice(index, 1);
    if (group.members.length > 0) {
      ctx.delivery.reassignPending(sub, group);
      forget(ctx, sub);
      if (group.members.some((m) => !m.stalled)) ctx.delivery.schedule(group.members[0]!);
    } else if (group.isDurable && !unsubscribe) {
      sub.isClosed = true;
      sub.stalled = false;
      group.shadow = sub;
      channel.store.subs.updateSub(toSubState(sub));
      ctx.subsFlusher.markDirty(channel.store.subs);
    } else {
      forget(ctx, sub);
      channel.queueGroups.delete(group.name);
    }
  } else if (sub.isDurable && !unsubscribe) {
    sub.isClosed = true;
    sub.stalled = false;
    channel.store.subs.updateSub(toSubState(sub));
    ctx.subsFlusher.markDirty(channel.store.subs);
  } else {
    channel.subs.delete(sub);
    if (sub.isDurable) channel.durables.delete(durableKey(sub.clientId, channel.name, sub.durableName));
    forget(ctx, sub);
  }
  armInactivity(ctx, channel);
}

function findSubscription(ctx: ServerContext, req: UnsubscribeRequest): SubscriptionState | undefined {
  const channel = ctx.channels.get(req.subject);
  if (channel === undefined) return undefined;
  const byAck = ctx.subsByAckInbox.get(req.inbox);
  if (byAck !== undefined && byAck.channel === channel) return byAck;
  // A client whose subscribe timed out closes by its delivery inbox (stan.go).
  for (const sub of channel.subs) if (!sub.isClosed && sub.inbox === req.inbox) return sub;
  for (const group of channel.queueGroups.values()) {
    for (const member of group.members) if (member.inbox === req.inbox) return member;
  }
  return undefined;
}

/** Returns the error text for the SubscriptionResponse, '' on success. */
export function handleUnsubscribe(ctx: ServerContext, req: UnsubscribeRequest, unsubscribe: boolean): string {
  const channel = ctx.channels.get(req.subject);
  if (channel === undefined) return StanErrors.unknownChannel;
  const sub = findSubscription(ctx, req);
  if (sub === undefined) return StanErrors.invalidSubscription;
  if (sub.clientId !== req.clientID) return StanErrors.unknownClientId;
  closeSubscription(ctx, sub, unsubscribe);
  return '';
}
