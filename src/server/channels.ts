// Channel lookup-or-create on top of the store, and deletion of channels that stay inactive past
// max_inactivity (no new message and no active subscription for that long).
import type { ServerContext } from './context.js';
import { countActiveSubs, type ChannelState } from './state.js';

export function newChannelState(ctx: ServerContext, name: string, store: ChannelState['store']): ChannelState {
  return {
    name,
    nameBytes: utf8Key(name),
    store,
    subs: new Set(),
    durables: new Map(),
    queueGroups: new Map(),
    nextSubId: 1,
    lastTimestampNs: 0n,
    inactivityTimer: undefined,
    deleting: false,
  };
}

/** The name's UTF-8 bytes, or null for a name that does not survive UTF-8 (a lone surrogate). */
function utf8Key(name: string): Uint8Array | null {
  const bytes = Buffer.from(name, 'utf8');
  return bytes.toString('utf8') === name ? bytes : null;
}

/** The channel's state, creating the channel in the store when new. Rejects with the store's wire error. */
export async function getOrCreateChannel(ctx: ServerContext, name: string): Promise<ChannelState> {
  const existing = ctx.channels.get(name);
  if (existing !== undefined) return existing;
  const stored = await ctx.store.createChannel(name);
  const raced = ctx.channels.get(name);
  if (raced !== undefined) return raced;
  const channel = newChannelState(ctx, name, stored);
  ctx.channels.set(name, channel);
  ctx.logger.debug({ channel: name }, 'channel created');
  armInactivity(ctx, channel);
  return channel;
}

/** Restarts the inactivity countdown when the channel has nothing active; clears it otherwise. */
export function armInactivity(ctx: ServerContext, channel: ChannelState): void {
  const limitMs = ctx.store.channelLimits(channel.name).maxInactivityMs;
  if (limitMs <= 0 || channel.deleting) return;
  if (channel.inactivityTimer !== undefined) clearTimeout(channel.inactivityTimer);
  channel.inactivityTimer = undefined;
  if (countActiveSubs(channel) > 0) return;
  channel.inactivityTimer = setTimeout(() => {
    channel.inactivityTimer = undefined;
    if (countActiveSubs(channel) > 0 || channel.deleting) return;
    deleteChannel(ctx, channel);
  }, limitMs);
}

export function stopInactivity(channel: ChannelState): void {
  if (channel.inactivityTimer !== undefined) clearTimeout(channel.inactivityTimer);
  channel.inactivityTimer = undefined;
}

function deleteChannel(ctx: ServerContext, channel: ChannelState): void {
  channel.deleting = true;
  // Offline durables and shadows go with the channel, as in the reference.
  for (const sub of [...channel.subs]) {
    if (sub.ackTimer !== undefined) clearTimeout(sub.ackTimer);
    ctx.subsByAckInbox.delete(sub.ackInbox);
  }
  ctx.logger.info({ channel: channel.name }, 'channel deleted after inactivity');
  ctx.store.deleteChannel(channel.name).then(
    () => {
      if (ctx.channels.get(channel.name) === channel) ctx.channels.delete(channel.name);
    },
    (error: unknown) => {
      channel.deleting = false;
      ctx.logger.error({ err: error, channel: channel.name }, 'deleting inactive channel failed');
    },
  );
}
