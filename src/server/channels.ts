// Channels on the serving side: lookup-or-create (a createChannel op), deletion of channels that
// stay inactive past max_inactivity (no new message and no active subscription for that long),
// and expiry of messages past max_age. The timers are the serving node's; what they decide goes
// out as ops (deleteChannel, expire) carrying the identity and time the decision was based on.
import { routineWriteFailure } from '../fsm/writer.js';
import type { ChannelRecord } from '../fsm/records.js';
import { NOT_LOADED } from '../store/types.js';
import type { ServerContext } from './context.js';
import { guarded } from './context.js';
import { countActiveSubs, type ChannelState } from './state.js';

/** The runtime of a channel record, starting from what the record says has been applied. */
export function newChannelState(record: ChannelRecord): ChannelState {
  return {
    record,
    name: record.name,
    nameBytes: utf8Key(record.name),
    store: record.store,
    subs: new Set(),
    durables: new Map(),
    queueGroups: new Map(),
    nextSeq: record.lastSeq + 1,
    nextSubId: record.nextSubId,
    deliverable: record.lastSeq,
    lastTimestampNs: record.lastTimestampNs,
    inactivityTimer: undefined,
    expiryTimer: undefined,
    deleting: false,
  };
}

/** The name's UTF-8 bytes, or null for a name that does not survive UTF-8 (a lone surrogate). */
function utf8Key(name: string): Uint8Array | null {
  const bytes = Buffer.from(name, 'utf8');
  return bytes.toString('utf8') === name ? bytes : null;
}

/** The channel's state, creating the channel when new. Rejects with the wire error text. */
export function getOrCreateChannel(ctx: ServerContext, name: string): Promise<ChannelState> {
  const existing = ctx.channels.get(name);
  if (existing !== undefined) return Promise.resolve(existing);
  // Concurrent requests for one new channel share one op.
  const table = ctx.creatingChannels;
  const pending = table.get(name);
  if (pending !== undefined) return pending;
  const created = ctx.writer
    .submit([{ type: 'createChannel', channel: name }])
    .then(([result]) => {
      if (result!.error !== '') throw new Error(result!.error);
      const raced = ctx.channels.get(name);
      if (raced !== undefined) return raced;
      const record = ctx.fsm.state.channels.get(name);
      if (record === undefined) throw new Error(`channel ${name} vanished while being created`);
      const channel = newChannelState(record);
      ctx.channels.set(name, channel);
      ctx.logger.debug({ channel: name }, 'channel created');
      armInactivity(ctx, channel);
      return channel;
    })
    .finally(() => table.delete(name));
  table.set(name, created);
  return created;
}

/** Restarts the inactivity countdown when the channel has nothing active; clears it otherwise. */
export function armInactivity(ctx: ServerContext, channel: ChannelState): void {
  const limitMs = ctx.store.channelLimits(channel.name).maxInactivityMs;
  if (limitMs <= 0 || channel.deleting) return;
  stopInactivity(ctx, channel);
  if (countActiveSubs(channel) > 0) return;
  channel.inactivityTimer = ctx.scheduler.setTimeout(() => {
    channel.inactivityTimer = undefined;
    guarded(ctx, 'deleting an inactive channel', () => {
      if (countActiveSubs(channel) > 0 || channel.deleting) return;
      deleteInactiveChannel(ctx, channel);
    });
  }, limitMs);
}

export function stopInactivity(ctx: ServerContext, channel: ChannelState): void {
  if (channel.inactivityTimer !== undefined) ctx.scheduler.clearTimeout(channel.inactivityTimer);
  channel.inactivityTimer = undefined;
}

function deleteInactiveChannel(ctx: ServerContext, channel: ChannelState): void {
  // A publish still being written is activity: the countdown starts again once it lands.
  if (channel.nextSeq - 1 !== channel.deliverable) return;
  channel.deleting = true;
  ctx.progress.flush();
  const record = channel.record;
  ctx.writer.submit([{ type: 'deleteChannel', channel: channel.name, channelId: record.id, lastSeq: channel.nextSeq - 1 }]).then(
    ([result]) => {
      if (result!.error !== '') {
        // Active again since the decision: it stays.
        channel.deleting = false;
        armInactivity(ctx, channel);
        return;
      }
      forgetChannel(ctx, channel);
      ctx.logger.info({ channel: channel.name }, 'channel deleted after inactivity');
    },
    (error: unknown) => {
      channel.deleting = false;
      if (!routineWriteFailure(error)) ctx.logger.error({ err: error, channel: channel.name }, 'deleting inactive channel failed');
    },
  );
}

/** Drops a deleted channel's runtime: its timers, and its subscriptions' ack inboxes. */
function forgetChannel(ctx: ServerContext, channel: ChannelState): void {
  stopInactivity(ctx, channel);
  stopExpiry(ctx, channel);
  for (const sub of channel.subs) {
    ctx.delivery.stopAckTimer(sub);
    if (ctx.subsByAckInbox.get(sub.ackInbox) === sub) ctx.subsByAckInbox.delete(sub.ackInbox);
  }
  if (ctx.channels.get(channel.name) === channel) ctx.channels.delete(channel.name);
}

/** Arms the timer that proposes dropping the oldest message once it passes max_age. */
export function scheduleExpiry(ctx: ServerContext, channel: ChannelState): void {
  const maxAgeMs = ctx.store.channelLimits(channel.name).maxAgeMs;
  if (maxAgeMs <= 0 || channel.expiryTimer !== undefined || channel.deleting) return;
  const msgs = channel.store.msgs;
  if (msgs.state().msgs === 0) return;
  const oldest = msgs.lookupSync(msgs.firstSequence());
  if (oldest === undefined) return;
  const dueMs = oldest === NOT_LOADED ? ctx.scheduler.nowMs() : Number(oldest.timestamp / 1_000_000n) + maxAgeMs;
  channel.expiryTimer = ctx.scheduler.setTimeout(() => {
    channel.expiryTimer = undefined;
    guarded(ctx, 'expiring messages', () => expireAged(ctx, channel));
  }, Math.min(Math.max(0, dueMs - ctx.scheduler.nowMs()) + 1, 2_147_483_647));
}

export function stopExpiry(ctx: ServerContext, channel: ChannelState): void {
  if (channel.expiryTimer !== undefined) ctx.scheduler.clearTimeout(channel.expiryTimer);
  channel.expiryTimer = undefined;
}

/** Proposes dropping every message older than max_age now, up to the last one that is. */
function expireAged(ctx: ServerContext, channel: ChannelState): void {
  if (ctx.channels.get(channel.name) !== channel || channel.deleting) return;
  const maxAgeMs = ctx.store.channelLimits(channel.name).maxAgeMs;
  const cutoffNs = BigInt(ctx.scheduler.nowMs() - maxAgeMs) * 1_000_000n;
  const msgs = channel.store.msgs;
  msgs
    .sequenceFromTimestamp(cutoffNs + 1n)
    .then((firstKept) => {
      const throughSeq = Math.min(firstKept - 1, channel.deliverable);
      if (throughSeq < msgs.firstSequence()) return undefined;
      return ctx.writer.submit([{ type: 'expire', channel: channel.name, throughSeq }]);
    })
    .then(
      () => scheduleExpiry(ctx, channel),
      (error: unknown) => {
        if (!routineWriteFailure(error)) ctx.logger.error({ err: error, channel: channel.name }, 'expiring messages failed');
      },
    );
}
