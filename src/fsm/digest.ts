// A canonical description of the replicated state — records and message store content — so that
// tests and checkers can tell whether two nodes (or two ways of reaching a state) agree. Maps are
// listed in sorted order; messages as sequence, timestamp and a hash of subject, reply and data.
import { createHash } from 'node:crypto';
import type { MsgProto } from '../store/types.js';
import { NOT_LOADED } from '../store/types.js';
import { messageRange, type ChannelRecord, type StreamingState, type SubRecord } from './records.js';

function describeSub(sub: SubRecord): unknown {
  return {
    id: sub.id,
    clientId: sub.clientId,
    qGroup: sub.qGroup,
    inbox: sub.inbox,
    ackInbox: sub.ackInbox,
    maxInFlight: sub.maxInFlight,
    ackWaitInSecs: sub.ackWaitInSecs,
    durableName: sub.durableName,
    isDurable: sub.isDurable,
    isClosed: sub.isClosed,
    lastSent: sub.lastSent,
    pending: [...sub.pending],
  };
}

function hashMsg(msg: MsgProto): string {
  return createHash('sha256').update(msg.subject).update('\u0000').update(msg.reply).update('\u0000').update(msg.data).digest('hex').slice(0, 16);
}

async function describeMessages(channel: ChannelRecord): Promise<unknown> {
  const msgs = channel.store.msgs;
  const { first, last } = messageRange(channel);
  const out: string[] = [];
  for (let seq = first; seq <= last && last > 0; seq++) {
    let msg = msgs.lookupSync(seq);
    if (msg === NOT_LOADED) msg = await msgs.lookup(seq);
    out.push(msg === undefined ? `${seq}:-` : `${seq}:${msg.timestamp}:${hashMsg(msg)}`);
  }
  return { first, last, msgs: out };
}

export async function describeState(state: StreamingState): Promise<unknown> {
  const clients = [...state.clients.values()]
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map((c) => ({
      id: c.id,
      hbInbox: c.hbInbox,
      connKey: c.connKey,
      protocol: c.protocol,
      pingInterval: c.pingInterval,
      pingMaxOut: c.pingMaxOut,
      subs: [...c.subs].map((s) => `${s.channel.name}/${s.id}`),
    }));
  const channels = [];
  for (const channel of [...state.channels.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    channels.push({
      name: channel.name,
      id: channel.id,
      nextSubId: channel.nextSubId,
      lastSeq: channel.lastSeq,
      lastTimestampNs: String(channel.lastTimestampNs),
      subs: [...channel.subs.values()].sort((a, b) => a.id - b.id).map(describeSub),
      groups: [...channel.groups.values()]
        .sort((a, b) => (a.name < b.name ? -1 : 1))
        .map((g) => ({ name: g.name, isDurable: g.isDurable, lastSent: g.lastSent, members: g.members.map((m) => m.id), shadow: g.shadow?.id ?? 0 })),
      messages: await describeMessages(channel),
    });
  }
  return { nextChannelId: state.nextChannelId, clients, channels };
}

/** A short hash of describeState(), for logs and quick comparisons. */
export async function digestState(state: StreamingState): Promise<string> {
  return createHash('sha256').update(JSON.stringify(await describeState(state))).digest('hex').slice(0, 16);
}
