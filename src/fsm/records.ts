// The replicated streaming state: what every node of a cluster holds identically, because it is
// changed only by applying operations (ops.ts) in log order. Clients, channels, subscriptions
// with their pending sequences, queue groups. Nothing here is leader-only runtime (timers,
// expirations, stalled flags, delivery scheduling): the server keeps that in its own types
// (src/server/state.ts) and rebuilds it from these records when it starts serving.
import type { Channel } from '../store/types.js';
import type { SeqSet } from '../util/seq-window.js';

export interface ClientRecord {
  readonly id: string;
  readonly hbInbox: string;
  readonly connId: Uint8Array;
  /** connId as a latin1 string, the key of StreamingState.clientsByConnId ('' for protocol 0). */
  readonly connKey: string;
  readonly protocol: number;
  readonly pingInterval: number;
  readonly pingMaxOut: number;
  /** The client's subscriptions that are online, in the order they were created or resumed. */
  readonly subs: Set<SubRecord>;
}

export interface SubRecord {
  readonly id: number;
  readonly channel: ChannelRecord;
  /** The client that holds it now; kept when a durable goes offline (the durable key needs it). */
  clientId: string;
  /** Queue group as stored: `durable:group` for a durable queue group, '' when not a queue member. */
  readonly qGroup: string;
  inbox: string;
  ackInbox: string;
  maxInFlight: number;
  ackWaitInSecs: number;
  /** '' for queue members (the durable name is part of qGroup then). */
  readonly durableName: string;
  readonly isDurable: boolean;
  /** An offline durable, or the shadow keeping a durable queue group while it has no member. */
  isClosed: boolean;
  /** Highest sequence recorded as sent (for a queue member the group's value is authoritative). */
  lastSent: number;
  /** Sequences sent and not acknowledged, as far as the replicated record knows. */
  readonly pending: SeqSet;
  readonly group: GroupRecord | undefined;
}

export interface GroupRecord {
  readonly name: string;
  readonly isDurable: boolean;
  lastSent: number;
  /** Online members in join order: the order pending messages are reassigned in. */
  readonly members: SubRecord[];
  shadow: SubRecord | undefined;
}

export interface ChannelRecord {
  readonly name: string;
  /** Identity of this incarnation of the channel: a re-created channel gets a new one. */
  readonly id: number;
  readonly store: Channel;
  /** Every subscription by ID: online, offline durables, queue members and shadows. */
  readonly subs: Map<number, SubRecord>;
  /** Durables (not queue members) by `clientID-channel-durableName`. */
  readonly durables: Map<string, SubRecord>;
  readonly groups: Map<string, GroupRecord>;
  nextSubId: number;
  /** Last sequence applied to this channel (the store may hold more during a replay). */
  lastSeq: number;
  /** Timestamp (ns) of the last message applied; the leader never goes below it. */
  lastTimestampNs: bigint;
}

export interface StreamingState {
  readonly clients: Map<string, ClientRecord>;
  readonly clientsByConnId: Map<string, ClientRecord>;
  readonly channels: Map<string, ChannelRecord>;
  /** The identity the next created channel gets. */
  nextChannelId: number;
}

export function emptyStreamingState(): StreamingState {
  return { clients: new Map(), clientsByConnId: new Map(), channels: new Map(), nextChannelId: 1 };
}

export function durableKey(clientId: string, channel: string, durableName: string): string {
  return `${clientId}-${channel}-${durableName}`;
}

/** A queue group's key in GroupRecord.name and SubState.qGroup. */
export function groupName(qGroup: string, durableName: string): string {
  return durableName !== '' ? `${durableName}:${qGroup}` : qGroup;
}

/** A client's record, with no subscription yet. */
export function clientRecordOf(info: {
  readonly id: string;
  readonly hbInbox: string;
  readonly connId: Uint8Array;
  readonly protocol: number;
  readonly pingInterval: number;
  readonly pingMaxOut: number;
}): ClientRecord {
  const { id, hbInbox, connId, protocol, pingInterval, pingMaxOut } = info;
  return { id, hbInbox, connId, connKey: connKeyOf(connId), protocol, pingInterval, pingMaxOut, subs: new Set() };
}

export function connKeyOf(connId: Uint8Array): string {
  return Buffer.from(connId.buffer, connId.byteOffset, connId.byteLength).toString('latin1');
}

/** The lastSent that counts for a subscription: its group's for a queue member. */
export function effectiveLastSent(sub: SubRecord): number {
  return sub.group !== undefined ? sub.group.lastSent : sub.lastSent;
}

/**
 * First and last sequence of a channel as the records define them. A store that holds no message
 * may have forgotten where the channel was (a node restored from a snapshot of a channel whose
 * messages all expired): the channel then continues after its last applied sequence.
 */
export function messageRange(channel: ChannelRecord): { first: number; last: number } {
  const msgs = channel.store.msgs;
  if (msgs.state().msgs > 0) return { first: msgs.firstSequence(), last: msgs.lastSequence() };
  return channel.lastSeq === 0 ? { first: 0, last: 0 } : { first: channel.lastSeq + 1, last: channel.lastSeq };
}
