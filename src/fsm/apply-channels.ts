// Channel ops: create, publish a batch, expire by age, delete when inactive. Messages go to the
// message store; a replay after a crash may find the store already holding some of them (it is
// written before the Raft log's applied index is known durable), and then skips what it holds.
import { StanErrors } from '../server/errors.js';
import { isValidChannelName } from '../store/limits.js';
import type { MsgProto } from '../store/types.js';
import { TstanError } from '../util/errors.js';
import type { FsmContext } from './context.js';
import { OK, failed, type CreateChannelOp, type DeleteChannelOp, type ExpireOp, type OpResult, type PublishOp } from './ops.js';
import type { ChannelRecord } from './records.js';

/** Checks the reference's channel rules against the records; '' when the channel may be created. */
function creationError(ctx: FsmContext, name: string): string {
  if (!isValidChannelName(name, false)) return StanErrors.invalidSubject;
  const lower = name.toLowerCase();
  for (const other of ctx.state.channels.keys()) {
    if (other.toLowerCase() === lower) {
      return `rejecting channel "${name}" because channel "${other}" alreay exists (different cases not allowed)`;
    }
  }
  const max = ctx.store.getLimits().maxChannels;
  if (max > 0 && ctx.state.channels.size >= max) return StanErrors.tooManyChannels;
  return '';
}

export function applyCreateChannel(ctx: FsmContext, op: CreateChannelOp): OpResult | Promise<OpResult> {
  if (ctx.state.channels.has(op.channel)) return OK;
  const error = creationError(ctx, op.channel);
  if (error !== '') return failed(error);
  const id = ctx.state.nextChannelId++;
  return ctx.store.createChannel(op.channel).then(
    (store) => {
      const record: ChannelRecord = {
        name: op.channel,
        id,
        store,
        subs: new Map(),
        durables: new Map(),
        groups: new Map(),
        nextSubId: 1,
        // Decided by ops alone: a store that is ahead (a replay after a crash) is caught up to.
        lastSeq: 0,
        lastTimestampNs: 0n,
      };
      ctx.state.channels.set(op.channel, record);
      return OK;
    },
    // The medium refused (no space, a name the file system cannot hold): every node reports it.
    (cause: unknown) => failed(cause instanceof Error ? cause.message : String(cause)),
  );
}

export function applyPublish(ctx: FsmContext, op: PublishOp): OpResult {
  const channel = ctx.state.channels.get(op.channel);
  if (channel === undefined) return failed(StanErrors.unknownChannel);
  if (op.msgs.length === 0) return OK;
  if (op.firstSeq !== channel.lastSeq + 1) {
    return failed(`stan: publish batch starts at ${op.firstSeq} but channel ${op.channel} is at ${channel.lastSeq}`);
  }
  if (op.timestampNs < channel.lastTimestampNs) return failed(`stan: publish batch timestamp goes back on channel ${op.channel}`);
  const lastSeq = op.firstSeq + op.msgs.length - 1;
  const held = channel.store.msgs.lastSequence();
  channel.lastSeq = lastSeq;
  channel.lastTimestampNs = op.timestampNs;
  ctx.clock.set(op.timestampNs);
  if (held >= lastSeq) {
    // Held already (a replay): what storing it dropped by age then is dropped now. Later messages
    // are never older than this batch, so a store that is ahead loses nothing more.
    channel.store.msgs.expireAged(op.timestampNs);
    return OK;
  }
  const skip = Math.max(0, held - op.firstSeq + 1);
  const msgs: MsgProto[] = new Array<MsgProto>(op.msgs.length - skip);
  for (let i = skip; i < op.msgs.length; i++) {
    const published = op.msgs[i]!;
    msgs[i - skip] = {
      sequence: op.firstSeq + i,
      subject: op.channel,
      reply: published.reply,
      data: published.data,
      timestamp: op.timestampNs,
      redelivered: false,
      redeliveryCount: 0,
      crc32: 0,
    };
  }
  ctx.awaitDurable(channel.store.msgs.storeBatch(msgs).durable);
  return OK;
}

export function applyExpire(ctx: FsmContext, op: ExpireOp): OpResult {
  const channel = ctx.state.channels.get(op.channel);
  if (channel === undefined) return failed(StanErrors.unknownChannel);
  const dropped = channel.store.msgs.dropBefore(Math.min(op.throughSeq, channel.lastSeq) + 1);
  return { type: 'expired', error: '', dropped };
}

export function hasOnlineSubs(channel: ChannelRecord): boolean {
  for (const sub of channel.subs.values()) if (!sub.isClosed) return true;
  return false;
}

export function applyDeleteChannel(ctx: FsmContext, op: DeleteChannelOp): OpResult | Promise<OpResult> {
  const channel = ctx.state.channels.get(op.channel);
  if (channel === undefined || channel.id !== op.channelId) return failed(StanErrors.unknownChannel);
  // Published to or subscribed since the leader decided: the channel is active again.
  if (channel.lastSeq !== op.lastSeq || hasOnlineSubs(channel)) return failed('stan: channel is active');
  ctx.state.channels.delete(op.channel);
  // Offline durables and shadows go with the channel, as in the reference.
  for (const sub of channel.subs.values()) ctx.state.clients.get(sub.clientId)?.subs.delete(sub);
  return ctx.store.deleteChannel(op.channel).then(
    () => OK,
    (cause: unknown) => {
      // The records no longer hold the channel; a store that could not drop it is out of step.
      throw new TstanError('FSM_STORE_FAILED', `deleting channel ${op.channel} from the store failed`, { cause });
    },
  );
}
