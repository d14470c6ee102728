// Records rebuilt from what a standalone persistent store recovered (clients.dat, subs.dat and
// the message files). Plain subscriptions whose client is gone have nothing left to serve and are
// deleted; durables whose client is gone stay, offline.
import type { RecoveredState, Store } from '../store/types.js';
import { NOT_LOADED } from '../store/types.js';
import {
  clientRecordOf,
  durableKey,
  emptyStreamingState,
  type ChannelRecord,
  type GroupRecord,
  type StreamingState,
  type SubRecord,
} from './records.js';
import { SeqSet } from '../util/seq-window.js';

function lastTimestampOf(channel: ChannelRecord): bigint {
  const msgs = channel.store.msgs;
  const last = msgs.lastSequence();
  if (last === 0) return 0n;
  const msg = msgs.lookupSync(last);
  return msg === undefined || msg === NOT_LOADED ? 0n : msg.timestamp;
}

export function stateFromRecovered(store: Store, recovered: RecoveredState): StreamingState {
  const state = emptyStreamingState();
  for (const info of recovered.clients) {
    const client = clientRecordOf(info);
    state.clients.set(client.id, client);
    if (client.connKey !== '') state.clientsByConnId.set(client.connKey, client);
  }
  for (const { channel: stored, subscriptions } of recovered.channels) {
    const channel: ChannelRecord = {
      name: stored.name,
      id: state.nextChannelId++,
      store: stored,
      subs: new Map(),
      durables: new Map(),
      groups: new Map(),
      nextSubId: 1,
      lastSeq: stored.msgs.lastSequence(),
      lastTimestampNs: 0n,
    };
    channel.lastTimestampNs = lastTimestampOf(channel);
    state.channels.set(channel.name, channel);
    for (const { sub: s, pending } of subscriptions) {
      channel.nextSubId = Math.max(channel.nextSubId, s.id + 1);
      const client = state.clients.get(s.clientId);
      const offline = s.isClosed || client === undefined;
      if (offline && !s.isDurable) {
        store.lookupChannel(stored.name)?.subs.deleteSub(s.id);
        continue;
      }
      let group: GroupRecord | undefined;
      if (s.qGroup !== '') {
        group = channel.groups.get(s.qGroup);
        if (group === undefined) {
          group = { name: s.qGroup, isDurable: s.isDurable, lastSent: 0, members: [], shadow: undefined };
          channel.groups.set(group.name, group);
        }
        group.lastSent = Math.max(group.lastSent, s.lastSent);
      }
      const sub: SubRecord = {
        id: s.id,
        channel,
        clientId: s.clientId,
        qGroup: s.qGroup,
        inbox: s.inbox,
        ackInbox: s.ackInbox,
        maxInFlight: Math.max(1, s.maxInFlight),
        ackWaitInSecs: Math.max(1, s.ackWaitInSecs),
        durableName: s.durableName,
        isDurable: s.isDurable,
        isClosed: offline,
        lastSent: s.lastSent,
        pending: new SeqSet(pending),
        group,
      };
      channel.subs.set(sub.id, sub);
      if (group !== undefined) {
        if (offline) group.shadow = sub;
        else group.members.push(sub);
      } else if (sub.isDurable) {
        channel.durables.set(durableKey(sub.clientId, channel.name, sub.durableName), sub);
      }
      if (!offline) client!.subs.add(sub);
    }
  }
  return state;
}
