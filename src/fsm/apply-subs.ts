// Subscription ops: create (plain, durable, queue member) or resume (offline durable, group
// shadow), unsubscribe and close, and the batched sent/acked positions. Validation repeats what
// the leader checked, because the state it checked against may have changed before the op is
// applied; the errors are the reference's wire texts.
import { StanErrors } from '../server/errors.js';
import type { FsmContext } from './context.js';
import { subStateOf } from './context.js';
import { OK, failed, type OpResult, type Reassignment, type SentAckOp, type SubscribeOp, type UnsubscribeOp } from './ops.js';
import { durableKey, groupName, type ChannelRecord, type GroupRecord, type SubRecord } from './records.js';
import { SeqSet } from '../util/seq-window.js';

function hasRoomForSub(ctx: FsmContext, channel: ChannelRecord): boolean {
  const max = ctx.store.channelLimits(channel.name).maxSubscriptions;
  return max <= 0 || channel.subs.size < max;
}

function createSub(ctx: FsmContext, channel: ChannelRecord, op: SubscribeOp, group: GroupRecord | undefined, lastSent: number): SubRecord {
  const sub: SubRecord = {
    id: op.subId,
    channel,
    clientId: op.clientId,
    qGroup: group?.name ?? '',
    inbox: op.inbox,
    ackInbox: op.ackInbox,
    maxInFlight: op.maxInFlight,
    ackWaitInSecs: op.ackWaitInSecs,
    durableName: group === undefined ? op.durableName : '',
    isDurable: op.durableName !== '',
    isClosed: false,
    lastSent,
    pending: new SeqSet(),
    group,
  };
  channel.subs.set(sub.id, sub);
  channel.nextSubId = Math.max(channel.nextSubId, sub.id + 1);
  if (ctx.persistRecords) {
    channel.store.subs.createSub(subStateOf(sub));
    ctx.markSubsDirty(channel.store.subs);
  }
  return sub;
}

/** An offline durable or a shadow gets its new client's inboxes, MaxInFlight and AckWait. */
function resume(ctx: FsmContext, sub: SubRecord, op: SubscribeOp): void {
  sub.clientId = op.clientId;
  sub.inbox = op.inbox;
  sub.ackInbox = op.ackInbox;
  sub.maxInFlight = op.maxInFlight;
  sub.ackWaitInSecs = op.ackWaitInSecs;
  sub.isClosed = false;
  persistUpdate(ctx, sub);
}

function persistUpdate(ctx: FsmContext, sub: SubRecord): void {
  if (!ctx.persistRecords) return;
  sub.channel.store.subs.updateSub(subStateOf(sub));
  ctx.markSubsDirty(sub.channel.store.subs);
}

function subscribed(subId: number, resumed: boolean): OpResult {
  return { type: 'subscribed', error: '', subId, resumed };
}

function validSubId(channel: ChannelRecord, subId: number): boolean {
  return subId >= channel.nextSubId && !channel.subs.has(subId);
}

export function applySubscribe(ctx: FsmContext, op: SubscribeOp): OpResult {
  const channel = ctx.state.channels.get(op.channel);
  if (channel === undefined) return failed(StanErrors.unknownChannel);
  const client = ctx.state.clients.get(op.clientId);
  if (client === undefined) return failed(StanErrors.unknownClientId);
  if (op.maxInFlight <= 0) return failed(StanErrors.invalidMaxInFlight);
  if (op.ackWaitInSecs <= 0) return failed(StanErrors.invalidAckWait);
  if (op.inbox === '' || op.ackInbox === '') return failed(StanErrors.invalidSubscriptionRequest);
  let sub: SubRecord;
  let resumed = false;
  if (op.qGroup !== '') {
    if (op.durableName.includes(':')) return failed(StanErrors.durableQueueNameColon);
    const name = groupName(op.qGroup, op.durableName);
    let group = channel.groups.get(name);
    if (group?.shadow !== undefined) {
      sub = group.shadow;
      group.shadow = undefined;
      resume(ctx, sub, op);
      group.members.push(sub);
      resumed = true;
    } else {
      if (!validSubId(channel, op.subId)) return failed(`stan: subscription ID ${op.subId} is not the next one`);
      if (!hasRoomForSub(ctx, channel)) return failed(StanErrors.tooManySubscriptions);
      const created = group === undefined;
      group ??= { name, isDurable: op.durableName !== '', lastSent: op.startLastSent, members: [], shadow: undefined };
      // Joining an existing group: the group's position wins over the requested start.
      sub = createSub(ctx, channel, op, group, group.lastSent);
      if (created) channel.groups.set(name, group);
      group.members.push(sub);
    }
  } else if (op.durableName !== '') {
    const key = durableKey(op.clientId, channel.name, op.durableName);
    const existing = channel.durables.get(key);
    if (existing !== undefined && !existing.isClosed) {
      if (!op.replaceDurable) return failed(StanErrors.duplicateDurable);
      closeSub(ctx, existing, false, []);
    }
    if (existing !== undefined) {
      sub = existing;
      resume(ctx, sub, op);
      resumed = true;
    } else {
      if (!validSubId(channel, op.subId)) return failed(`stan: subscription ID ${op.subId} is not the next one`);
      if (!hasRoomForSub(ctx, channel)) return failed(StanErrors.tooManySubscriptions);
      sub = createSub(ctx, channel, op, undefined, op.startLastSent);
      channel.durables.set(key, sub);
    }
  } else {
    if (!validSubId(channel, op.subId)) return failed(`stan: subscription ID ${op.subId} is not the next one`);
    if (!hasRoomForSub(ctx, channel)) return failed(StanErrors.tooManySubscriptions);
    sub = createSub(ctx, channel, op, undefined, op.startLastSent);
  }
  client.subs.add(sub);
  return subscribed(sub.id, resumed);
}

function deleteSub(ctx: FsmContext, sub: SubRecord): void {
  const channel = sub.channel;
  channel.subs.delete(sub.id);
  if (sub.isDurable && sub.group === undefined) channel.durables.delete(durableKey(sub.clientId, channel.name, sub.durableName));
  sub.pending.clear();
  if (ctx.persistRecords) {
    channel.store.subs.deleteSub(sub.id);
    ctx.markSubsDirty(channel.store.subs);
  }
}

/**
 * Takes a subscription from its client. `remove` deletes durable state; a close keeps a durable
 * offline, and keeps a durable queue group as a shadow when its last member leaves. A departing
 * queue member's pending messages go round-robin to the remaining members, in join order.
 */
export function closeSub(ctx: FsmContext, sub: SubRecord, remove: boolean, reassigned: Reassignment[]): void {
  ctx.state.clients.get(sub.clientId)?.subs.delete(sub);
  const group = sub.group;
  if (group !== undefined) {
    const index = group.members.indexOf(sub);
    if (index >= 0) group.members.splice(index, 1);
    if (group.members.length > 0) {
      reassignPending(ctx, sub, group, reassigned);
      deleteSub(ctx, sub);
    } else if (group.isDurable && !remove) {
      sub.isClosed = true;
      group.shadow = sub;
      persistUpdate(ctx, sub);
    } else {
      deleteSub(ctx, sub);
      sub.channel.groups.delete(group.name);
    }
  } else if (sub.isDurable && !remove) {
    sub.isClosed = true;
    persistUpdate(ctx, sub);
  } else {
    deleteSub(ctx, sub);
  }
}

function reassignPending(ctx: FsmContext, from: SubRecord, group: GroupRecord, reassigned: Reassignment[]): void {
  let index = 0;
  const store = from.channel.store.subs;
  // `from` has left the group: adding to the members' pending never touches its own.
  for (const seq of from.pending) {
    const target = group.members[index++ % group.members.length]!;
    target.pending.add(seq);
    reassigned.push({ channel: from.channel.name, fromSubId: from.id, toSubId: target.id, seq });
    if (ctx.persistRecords) store.addSeqPending(target.id, seq);
  }
  ctx.markSubsDirty(store);
}

export function applyUnsubscribe(ctx: FsmContext, op: UnsubscribeOp): OpResult {
  const channel = ctx.state.channels.get(op.channel);
  if (channel === undefined) return failed(StanErrors.unknownChannel);
  const sub = channel.subs.get(op.subId);
  if (sub === undefined || sub.isClosed) return failed(StanErrors.invalidSubscription);
  if (sub.clientId !== op.clientId) return failed(StanErrors.unknownClientId);
  const reassigned: Reassignment[] = [];
  closeSub(ctx, sub, op.remove, reassigned);
  return { type: 'closed', error: '', reassigned };
}

/** Sent sequences become pending (and raise lastSent), then acked ones stop being pending. */
export function applySentAck(ctx: FsmContext, op: SentAckOp): OpResult {
  const channel = ctx.state.channels.get(op.channel);
  if (channel === undefined) return OK;
  const store = channel.store.subs;
  for (const entry of op.subs) {
    // A subscription gone meanwhile (unsubscribed, channel deleted) has nothing left to track.
    const sub = channel.subs.get(entry.subId);
    if (sub === undefined) continue;
    for (const seq of entry.sent) {
      sub.pending.add(seq);
      if (sub.group !== undefined) {
        if (seq > sub.group.lastSent) sub.group.lastSent = seq;
      } else if (seq > sub.lastSent) sub.lastSent = seq;
      if (ctx.persistRecords) store.addSeqPending(sub.id, seq);
    }
    for (const seq of entry.acked) {
      if (!sub.pending.delete(seq)) continue;
      if (ctx.persistRecords) store.ackSeqPending(sub.id, seq);
    }
  }
  ctx.markSubsDirty(store);
  return OK;
}
