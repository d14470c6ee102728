// Unsubscribe (state deleted) versus close (durable state kept), for one subscription or for all
// of a closing client's. The serving node stops delivering to the subscription at once (it is
// `closing`), hands its progress to the writer, submits the op, and once it is applied drops the
// runtime and gives the departed member's pending messages to the members the op named.
import { StanErrors } from './errors.js';
import type { UnsubscribeRequest } from './protocol.js';
import type { OpResult } from '../fsm/ops.js';
import type { ServerContext } from './context.js';
import { armInactivity } from './channels.js';
import { adoptRecord, durableKey, type ClientState, type SubscriptionState } from './state.js';

/** Nothing more goes to the subscription while its close is being applied. */
function markSubClosing(ctx: ServerContext, sub: SubscriptionState): void {
  sub.closing = true;
  ctx.delivery.stopAckTimer(sub);
}

/** A client whose disconnect (or replacement) is being applied takes no more deliveries. */
export function markClosing(ctx: ServerContext, client: ClientState): void {
  client.closed = true;
  for (const sub of client.subs) markSubClosing(ctx, sub);
}

/**
 * After the op: the subscription's runtime follows its record — gone, or offline (a durable, or
 * the shadow of a durable queue group).
 */
export function detachClosed(ctx: ServerContext, sub: SubscriptionState): void {
  ctx.delivery.stopAckTimer(sub);
  if (ctx.subsByAckInbox.get(sub.ackInbox) === sub) ctx.subsByAckInbox.delete(sub.ackInbox);
  ctx.clients.get(sub.clientId)?.subs.delete(sub);
  sub.initialized = false;
  sub.closing = false;
  const channel = sub.channel;
  const record = sub.record;
  const group = sub.group;
  const stillThere = channel.record.subs.get(sub.id) === record && ctx.fsm.state.channels.get(channel.name) === channel.record;
  if (group !== undefined) {
    const index = group.members.indexOf(sub);
    if (index >= 0) group.members.splice(index, 1);
    if (stillThere && record.isClosed) {
      group.shadow = sub;
      sub.stalled = false;
    } else if (group.members.length === 0 && group.shadow === undefined) {
      channel.queueGroups.delete(group.name);
    }
  } else if (stillThere && record.isClosed) {
    sub.stalled = false;
  } else {
    channel.subs.delete(sub);
    if (sub.isDurable) channel.durables.delete(durableKey(sub.clientId, channel.name, sub.durableName));
  }
  if (stillThere) adoptRecord(sub);
  else sub.pending.clear();
  armInactivity(ctx, channel);
}

/** Pending messages the op moved from departed queue members to remaining ones. */
export function settleClosed(ctx: ServerContext, result: OpResult): void {
  if (result.type !== 'closed') return;
  for (const moved of result.reassigned) {
    const channel = ctx.channels.get(moved.channel);
    if (channel === undefined) continue;
    for (const group of channel.queueGroups.values()) {
      const target = group.members.find((m) => m.id === moved.toSubId);
      if (target !== undefined) {
        ctx.delivery.takeReassigned(target, moved.seq);
        break;
      }
    }
  }
  if (result.reassigned.length > 0) ctx.logger.debug({ count: result.reassigned.length }, 'pending messages reassigned to remaining members');
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

/** Closes or unsubscribes one subscription through its op; resolves the error text ('' on success). */
export async function closeSubscription(ctx: ServerContext, sub: SubscriptionState, remove: boolean): Promise<string> {
  markSubClosing(ctx, sub);
  ctx.progress.flush();
  const [result] = await ctx.writer.submit([{ type: 'unsubscribe', channel: sub.channel.name, subId: sub.id, clientId: sub.clientId, remove }]);
  if (result!.error !== '' && sub.record.channel.subs.get(sub.id) === sub.record && !sub.record.isClosed) {
    // Refused, and the record still serves it: it goes on serving.
    sub.closing = false;
    ctx.delivery.rearm(sub);
    return result!.error;
  }
  detachClosed(ctx, sub);
  settleClosed(ctx, result!);
  return result!.error;
}

/** Resolves the error text for the SubscriptionResponse, '' on success. */
export function handleUnsubscribe(ctx: ServerContext, req: UnsubscribeRequest, remove: boolean): Promise<string> {
  const channel = ctx.channels.get(req.subject);
  if (channel === undefined) return Promise.resolve(StanErrors.unknownChannel);
  const sub = findSubscription(ctx, req);
  if (sub === undefined || sub.closing) return Promise.resolve(StanErrors.invalidSubscription);
  if (sub.clientId !== req.clientID) return Promise.resolve(StanErrors.unknownClientId);
  return closeSubscription(ctx, sub, remove);
}
