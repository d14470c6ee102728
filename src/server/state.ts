// The server's in-memory view of clients, channels and subscriptions. Plain data with small
// helpers: the behaviour lives in the handler modules that mutate it.
import type { Channel } from '../store/types.js';

export interface ClientState {
  readonly id: string;
  readonly hbInbox: string;
  /** connID as a latin1 string key (empty for protocol 0 clients). */
  readonly connId: string;
  readonly protocol: number;
  readonly pingInterval: number;
  readonly pingMaxOut: number;
  readonly createdMs: number;
  /** Consecutive heartbeats without a reply. */
  hbFailed: number;
  hbTimer: NodeJS.Timeout | undefined;
  /** A heartbeat request is outstanding: the timer must not start another. */
  hbInFlight: boolean;
  readonly subs: Set<SubscriptionState>;
  closed: boolean;
}

/** One subscription, or the shadow that keeps a durable queue group while it has no member. */
export interface SubscriptionState {
  readonly id: number;
  readonly channel: ChannelState;
  clientId: string;
  /** Queue group name as the store keys it: `durable:group` for a durable queue group. */
  readonly qGroup: string;
  inbox: string;
  ackInbox: string;
  maxInFlight: number;
  ackWaitMs: number;
  readonly durableName: string;
  readonly isDurable: boolean;
  /** A durable (or the shadow of a durable queue group) that has no client at the moment. */
  isClosed: boolean;
  /** Last sequence sent; for a queue member the group's value is authoritative. */
  lastSent: number;
  /** Pending acks: sequence -> expiration (ms since the epoch). */
  readonly pending: Map<number, number>;
  stalled: boolean;
  ackTimer: NodeJS.Timeout | undefined;
  /** When the ack timer fires (ms), or 0 when not armed. */
  ackTimerAtMs: number;
  /** Nothing is sent before the SubscriptionResponse has been published. */
  initialized: boolean;
  /** A delivery pass is scheduled (setImmediate) for this subscription or its group. */
  deliveryScheduled: boolean;
  readonly group: QueueGroupState | undefined;
  readonly redeliveryCounts: Map<number, number>;
  readonly createdMs: number;
}

export interface QueueGroupState {
  readonly name: string;
  readonly isDurable: boolean;
  lastSent: number;
  readonly members: SubscriptionState[];
  /** The durable group's state while no member is online (PROTOCOL.md §1.9). */
  shadow: SubscriptionState | undefined;
  readonly redeliveryCounts: Map<number, number>;
  deliveryScheduled: boolean;
}

export interface ChannelState {
  readonly name: string;
  /** The name in UTF-8, to match acks against without decoding them (null: decode them). */
  readonly nameBytes: Uint8Array | null;
  readonly store: Channel;
  /** Plain and durable subscriptions (not queue members). */
  readonly subs: Set<SubscriptionState>;
  /** Durables by `clientID-channel-durableName`, online or closed. */
  readonly durables: Map<string, SubscriptionState>;
  readonly queueGroups: Map<string, QueueGroupState>;
  nextSubId: number;
  /** Timestamp (ns) of the last stored message, kept non-decreasing. */
  lastTimestampNs: bigint;
  /** Deletion of an inactive channel is armed / in progress. */
  inactivityTimer: NodeJS.Timeout | undefined;
  deleting: boolean;
}

export function durableKey(clientId: string, channel: string, durableName: string): string {
  return `${clientId}-${channel}-${durableName}`;
}

/** Subscriptions of a channel that are online (plain, online durables, every queue member). */
export function countActiveSubs(channel: ChannelState): number {
  let count = 0;
  for (const sub of channel.subs) if (!sub.isClosed) count++;
  for (const group of channel.queueGroups.values()) count += group.members.length;
  return count;
}

export function countAllSubs(channel: ChannelState): number {
  let count = channel.subs.size;
  for (const group of channel.queueGroups.values()) count += group.members.length + (group.shadow ? 1 : 0);
  return count;
}
