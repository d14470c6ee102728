// SubscriptionRequest handling: validation in the reference order and with its error strings,
// then one subscribe op carrying everything the serving node resolved — the subscription ID, the
// ack inbox, and the start position turned into a start sequence — so that every node places the
// subscription identically (new, durable resumed, queue group joined or its shadow resumed).
import { InDoubtError } from '../fsm/writer.js';
import type { SubRecord } from '../fsm/records.js';
import { StanErrors } from './errors.js';
import { isValidChannel } from './names.js';
import type { SubscriptionRequest } from './protocol.js';
import type { ServerContext } from './context.js';
import { armInactivity, getOrCreateChannel } from './channels.js';
import { adoptRecord, durableKey, type ChannelState, type QueueGroupState, type SubscriptionState } from './state.js';
import { SeqMap } from '../util/seq-window.js';

export const StartPosition = { NewOnly: 0, LastReceived: 1, TimeDeltaStart: 2, SequenceStart: 3, First: 4 } as const;

function validate(ctx: ServerContext, req: SubscriptionRequest): string {
  if (req.clientID === '') return StanErrors.clientIdMissing;
  if (req.ackWaitInSecs <= 0) return StanErrors.invalidAckWait;
  if (req.maxInFlight <= 0) return StanErrors.invalidMaxInFlight;
  if (!Number.isInteger(req.startPosition) || req.startPosition < 0 || req.startPosition > 4) {
    return StanErrors.invalidStartPosition;
  }
  if (!isValidChannel(req.subject)) return StanErrors.invalidSubject;
  if (!ctx.clients.has(req.clientID)) return StanErrors.unknownClientId;
  if (req.inbox === '') return StanErrors.invalidSubscriptionRequest;
  return '';
}

/** lastSent for a new subscription (delivery starts at lastSent + 1). */
async function startLastSentOf(ctx: ServerContext, channel: ChannelState, req: SubscriptionRequest): Promise<number> {
  const msgs = channel.store.msgs;
  const first = msgs.firstSequence();
  // Positions count what is durable: a batch still being written is "new" to this subscription.
  const last = channel.deliverable;
  switch (req.startPosition) {
    case StartPosition.NewOnly:
      return last;
    case StartPosition.LastReceived:
      return last > 0 ? last - 1 : 0;
    case StartPosition.TimeDeltaStart: {
      const startNs = BigInt(ctx.scheduler.nowMs()) * 1_000_000n - BigInt(Math.max(0, Math.trunc(req.startTimeDelta)));
      const seq = await msgs.sequenceFromTimestamp(startNs);
      return Math.min(last, Math.max(0, seq - 1));
    }
    case StartPosition.SequenceStart:
      if (req.startSequence < first) return Math.max(0, first - 1);
      if (req.startSequence > last) return last;
      return Math.max(0, req.startSequence - 1);
    default:
      return Math.max(0, first - 1);
  }
}

/** The runtime of a subscription record (new, or recovered when the node starts serving). */
export function newSubscriptionState(ctx: ServerContext, channel: ChannelState, record: SubRecord, group: QueueGroupState | undefined): SubscriptionState {
  return {
    record,
    id: record.id,
    channel,
    clientId: record.clientId,
    qGroup: record.qGroup,
    inbox: record.inbox,
    ackInbox: record.ackInbox,
    maxInFlight: record.maxInFlight,
    ackWaitMs: record.ackWaitInSecs * 1000,
    durableName: record.durableName,
    isDurable: record.isDurable,
    isClosed: record.isClosed,
    lastSent: group !== undefined ? group.lastSent : record.lastSent,
    pending: new SeqMap(),
    stalled: false,
    ackTimer: undefined,
    ackTimerAtMs: 0,
    initialized: false,
    closing: false,
    deliveryScheduled: false,
    group,
    redeliveryCounts: new Map(),
    createdMs: ctx.scheduler.nowMs(),
    unreplicatedSent: [],
    unreplicatedAcked: [],
    progressQueued: false,
  };
}

export function newQueueGroupState(record: QueueGroupState['record']): QueueGroupState {
  return {
    record,
    name: record.name,
    isDurable: record.isDurable,
    lastSent: record.lastSent,
    members: [],
    shadow: undefined,
    redeliveryCounts: new Map(),
    deliveryScheduled: false,
  };
}

function letGoOfOldClient(ctx: ServerContext, sub: SubscriptionState): void {
  ctx.delivery.stopAckTimer(sub);
  if (ctx.subsByAckInbox.get(sub.ackInbox) === sub) ctx.subsByAckInbox.delete(sub.ackInbox);
  ctx.clients.get(sub.clientId)?.subs.delete(sub);
  sub.initialized = false;
  sub.closing = false;
}

/** Places the subscription the op created or resumed in the runtime; returns it. */
function placeApplied(ctx: ServerContext, channel: ChannelState, record: SubRecord, resumed: boolean): SubscriptionState {
  const groupRecord = record.group;
  if (groupRecord !== undefined) {
    let group = channel.queueGroups.get(groupRecord.name);
    if (group === undefined) channel.queueGroups.set(groupRecord.name, (group = newQueueGroupState(groupRecord)));
    let sub: SubscriptionState;
    if (resumed && group.shadow !== undefined && group.shadow.record === record) {
      sub = group.shadow;
      group.shadow = undefined;
      adoptRecord(sub);
    } else {
      sub = newSubscriptionState(ctx, channel, record, group);
    }
    group.members.push(sub);
    return sub;
  }
  if (resumed) {
    const existing = channel.durables.get(durableKey(record.clientId, channel.name, record.durableName));
    if (existing !== undefined && existing.record === record) {
      adoptRecord(existing);
      existing.stalled = existing.pending.size >= existing.maxInFlight;
      return existing;
    }
  }
  const sub = newSubscriptionState(ctx, channel, record, undefined);
  channel.subs.add(sub);
  if (record.isDurable) channel.durables.set(durableKey(record.clientId, channel.name, record.durableName), sub);
  return sub;
}

/**
 * Handles one request; the reply is sent by `reply` before any message is delivered, and not at
 * all when the outcome is in doubt. Every refusal is the reference error text.
 */
export async function handleSubscribe(
  ctx: ServerContext,
  req: SubscriptionRequest,
  reply: (ackInbox: string, error: string) => void,
): Promise<void> {
  const invalid = validate(ctx, req);
  if (invalid !== '') return reply('', invalid);
  let channel: ChannelState;
  try {
    channel = await getOrCreateChannel(ctx, req.subject);
  } catch (error) {
    return reply('', error instanceof Error ? error.message : String(error));
  }
  if (channel.deleting) return reply('', StanErrors.channelBeingDeleted);
  if (req.qGroup !== '' && req.durableName.includes(':')) return reply('', StanErrors.durableQueueNameColon);
  const client = ctx.clients.get(req.clientID);
  if (client === undefined || client.closed) return reply('', StanErrors.unknownClientId);
  let replaced: SubscriptionState | undefined;
  if (req.qGroup === '' && req.durableName !== '') {
    const existing = channel.durables.get(durableKey(req.clientID, channel.name, req.durableName));
    if (existing !== undefined && !existing.isClosed) {
      if (!ctx.options.replaceDurable) return reply('', StanErrors.duplicateDurable);
      replaced = existing;
      replaced.closing = true;
      ctx.delivery.stopAckTimer(replaced);
    }
  }
  // Ignored by the op when a durable resumes or a group is joined: they keep their position.
  const startLastSent = await startLastSentOf(ctx, channel, req);
  const subId = channel.nextSubId++;
  const ackInbox = ctx.ackPrefix + String(ctx.nextAckInbox++);
  ctx.progress.flush();
  let result;
  try {
    [result] = await ctx.writer.submit([
      {
        type: 'subscribe',
        channel: channel.name,
        subId,
        clientId: req.clientID,
        qGroup: req.qGroup,
        durableName: req.durableName,
        inbox: req.inbox,
        ackInbox,
        maxInFlight: req.maxInFlight,
        ackWaitInSecs: req.ackWaitInSecs,
        startLastSent,
        replaceDurable: ctx.options.replaceDurable,
      },
    ]);
  } catch (error) {
    if (replaced !== undefined) replaced.closing = false;
    if (error instanceof InDoubtError) return;
    return reply('', error instanceof Error ? error.message : String(error));
  }
  if (result!.type !== 'subscribed') {
    if (replaced !== undefined) replaced.closing = false;
    return reply('', result!.error);
  }
  const record = channel.record.subs.get(result!.subId);
  if (record === undefined) return reply('', StanErrors.invalidSubscription);
  // The durable that was replaced keeps its state; its old client and inboxes are let go.
  if (replaced !== undefined) letGoOfOldClient(ctx, replaced);
  const sub = placeApplied(ctx, channel, record, result!.resumed);
  if (client.closed || ctx.clients.get(client.id) !== client) {
    // The client's disconnect was applied after this op: it closes this subscription too.
    client.subs.add(sub);
    return reply('', StanErrors.unknownClientId);
  }
  client.subs.add(sub);
  ctx.subsByAckInbox.set(sub.ackInbox, sub);
  reply(sub.ackInbox, '');
  sub.initialized = true;
  if (result!.resumed) ctx.delivery.redeliverAllPending(sub);
  ctx.delivery.schedule(sub);
  armInactivity(ctx, channel);
}
