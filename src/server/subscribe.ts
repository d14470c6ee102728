// SubscriptionRequest handling: validation in the reference order and with its error strings,
// start positions, durables, queue groups and durable queue groups (PROTOCOL.md §1.5, §1.6, §1.9).
import { TstanError } from '../util/errors.js';
import type { SubState } from '../store/records.js';
import { StanErrors } from './errors.js';
import { isValidChannel } from './names.js';
import type { SubscriptionRequest } from './protocol.js';
import type { ServerContext } from './context.js';
import { armInactivity, getOrCreateChannel, stopInactivity } from './channels.js';
import { closeSubscription } from './unsubscribe.js';
import { durableKey, type ChannelState, type QueueGroupState, type SubscriptionState } from './state.js';

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
async function startLastSent(ctx: ServerContext, channel: ChannelState, req: SubscriptionRequest): Promise<number> {
  const msgs = channel.store.msgs;
  const first = msgs.firstSequence();
  const last = msgs.lastSequence();
  switch (req.startPosition) {
    case StartPosition.NewOnly:
      return last;
    case StartPosition.LastReceived:
      return last > 0 ? last - 1 : 0;
    case StartPosition.TimeDeltaStart: {
      const startNs = BigInt(Date.now()) * 1_000_000n - BigInt(Math.max(0, Math.trunc(req.startTimeDelta)));
      const seq = await msgs.sequenceFromTimestamp(startNs);
      return Math.max(0, seq - 1);
    }
    case StartPosition.SequenceStart:
      if (req.startSequence < first) return Math.max(0, first - 1);
      if (req.startSequence > last) return last;
      return Math.max(0, req.startSequence - 1);
    default:
      return Math.max(0, first - 1);
  }
}

function newSubscription(
  ctx: ServerContext,
  channel: ChannelState,
  req: SubscriptionRequest,
  qGroup: string,
  group: QueueGroupState | undefined,
  lastSent: number,
): SubscriptionState {
  const state: SubState = {
    id: 0,
    clientId: req.clientID,
    qGroup,
    inbox: req.inbox,
    ackInbox: ctx.ackPrefix + String(ctx.nextAckInbox++),
    maxInFlight: req.maxInFlight,
    ackWaitInSecs: req.ackWaitInSecs,
    durableName: group ? '' : req.durableName,
    lastSent,
    isDurable: req.durableName !== '',
    isClosed: false,
  };
  // Throws STORE_TOO_MANY_SUBS with the reference text; assigns state.id.
  channel.store.subs.createSub(state);
  return {
    id: state.id,
    channel,
    clientId: req.clientID,
    qGroup,
    inbox: req.inbox,
    ackInbox: state.ackInbox,
    maxInFlight: req.maxInFlight,
    ackWaitMs: req.ackWaitInSecs * 1000,
    durableName: state.durableName,
    isDurable: state.isDurable,
    isClosed: false,
    lastSent,
    pending: new Map(),
    stalled: false,
    ackTimer: undefined,
    ackTimerAtMs: 0,
    initialized: false,
    deliveryScheduled: false,
    group,
    redeliveryCounts: new Map(),
    createdMs: Date.now(),
  };
}

/** Gives a closed durable (or a group shadow) to a new client: new inboxes, MaxInFlight and AckWait. */
function resume(ctx: ServerContext, sub: SubscriptionState, req: SubscriptionRequest): void {
  sub.clientId = req.clientID;
  sub.inbox = req.inbox;
  sub.ackInbox = ctx.ackPrefix + String(ctx.nextAckInbox++);
  sub.maxInFlight = req.maxInFlight;
  sub.ackWaitMs = req.ackWaitInSecs * 1000;
  sub.isClosed = false;
  sub.initialized = false;
  sub.stalled = false;
  sub.channel.store.subs.updateSub(toSubState(sub));
}

export function toSubState(sub: SubscriptionState): SubState {
  return {
    id: sub.id,
    clientId: sub.clientId,
    qGroup: sub.qGroup,
    inbox: sub.inbox,
    ackInbox: sub.ackInbox,
    maxInFlight: sub.maxInFlight,
    ackWaitInSecs: Math.max(1, Math.round(sub.ackWaitMs / 1000)),
    durableName: sub.durableName,
    lastSent: sub.group ? sub.group.lastSent : sub.lastSent,
    isDurable: sub.isDurable,
    isClosed: sub.isClosed,
  };
}

interface Placement {
  readonly sub: SubscriptionState;
  /** Resumed state with pending messages to redeliver first. */
  readonly resumed: boolean;
}

async function placeQueueMember(ctx: ServerContext, channel: ChannelState, req: SubscriptionRequest): Promise<Placement> {
  const name = req.durableName !== '' ? `${req.durableName}:${req.qGroup}` : req.qGroup;
  let group = channel.queueGroups.get(name);
  if (group === undefined) {
    const lastSent = await startLastSent(ctx, channel, req);
    group = channel.queueGroups.get(name);
    if (group === undefined) {
      group = {
        name,
        isDurable: req.durableName !== '',
        lastSent,
        members: [],
        shadow: undefined,
        redeliveryCounts: new Map(),
        deliveryScheduled: false,
      };
      const sub = newSubscription(ctx, channel, req, name, group, lastSent);
      channel.queueGroups.set(name, group);
      group.members.push(sub);
      return { sub, resumed: false };
    }
  }
  const shadow = group.shadow;
  if (shadow !== undefined) {
    group.shadow = undefined;
    resume(ctx, shadow, req);
    group.members.push(shadow);
    return { sub: shadow, resumed: true };
  }
  // Joining an existing group: the group's position wins over the requested start position.
  const sub = newSubscription(ctx, channel, req, name, group, group.lastSent);
  group.members.push(sub);
  return { sub, resumed: false };
}

async function placeDurable(ctx: ServerContext, channel: ChannelState, req: SubscriptionRequest): Promise<Placement> {
  const key = durableKey(req.clientID, channel.name, req.durableName);
  let existing = channel.durables.get(key);
  if (existing !== undefined && !existing.isClosed) {
    if (!ctx.options.replaceDurable) throw new TstanError('STAN_DUPLICATE_DURABLE', StanErrors.duplicateDurable);
    closeSubscription(ctx, existing, false);
    existing = channel.durables.get(key);
  }
  if (existing !== undefined) {
    resume(ctx, existing, req);
    return { sub: existing, resumed: true };
  }
  const lastSent = await startLastSent(ctx, channel, req);
  const raced = channel.durables.get(key);
  if (raced !== undefined) throw new TstanError('STAN_DUPLICATE_DURABLE', StanErrors.duplicateDurable);
  const sub = newSubscription(ctx, channel, req, '', undefined, lastSent);
  channel.durables.set(key, sub);
  channel.subs.add(sub);
  return { sub, resumed: false };
}

async function placePlain(ctx: ServerContext, channel: ChannelState, req: SubscriptionRequest): Promise<Placement> {
  const lastSent = await startLastSent(ctx, channel, req);
  const sub = newSubscription(ctx, channel, req, '', undefined, lastSent);
  channel.subs.add(sub);
  return { sub, resumed: false };
}

/**
 * Handles one request; the reply is sent by `reply` before any message is delivered. Throws
 * nothing: every failure becomes the reference error text in the SubscriptionResponse.
 */
export async function handleSubscribe(
  ctx: ServerContext,
  req: SubscriptionRequest,
  reply: (ackInbox: string, error: string) => void,
): Promise<void> {
  const invalid = validate(ctx, req);
  if (invalid !== '') {
    reply('', invalid);
    return;
  }
  let placement: Placement;
  try {
    const channel = await getOrCreateChannel(ctx, req.subject);
    if (channel.deleting) throw new TstanError('STAN_CHANNEL_DELETING', StanErrors.channelBeingDeleted);
    if (req.qGroup !== '' && req.durableName !== '' && req.durableName.includes(':')) {
      throw new TstanError('STAN_DURABLE_QUEUE_NAME', StanErrors.durableQueueNameColon);
    }
    const client = ctx.clients.get(req.clientID);
    if (client === undefined) throw new TstanError('STAN_UNKNOWN_CLIENT', StanErrors.unknownClientId);
    if (req.qGroup !== '') placement = await placeQueueMember(ctx, channel, req);
    else if (req.durableName !== '') placement = await placeDurable(ctx, channel, req);
    else placement = await placePlain(ctx, channel, req);
    if (client.closed) {
      closeSubscription(ctx, placement.sub, false);
      throw new TstanError('STAN_UNKNOWN_CLIENT', StanErrors.unknownClientId);
    }
    client.subs.add(placement.sub);
    stopInactivity(channel);
  } catch (error) {
    reply('', error instanceof Error ? error.message : String(error));
    return;
  }
  const sub = placement.sub;
  try {
    // A subscription (above all a durable) exists for the client only once the store holds it.
    await sub.channel.store.subs.flush();
  } catch (error) {
    closeSubscription(ctx, sub, true);
    reply('', error instanceof Error ? error.message : String(error));
    return;
  }
  ctx.subsByAckInbox.set(sub.ackInbox, sub);
  reply(sub.ackInbox, '');
  sub.initialized = true;
  if (placement.resumed) ctx.delivery.redeliverAllPending(sub);
  ctx.delivery.schedule(sub);
  armInactivity(ctx, sub.channel);
}
