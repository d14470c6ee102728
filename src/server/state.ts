// The serving runtime: what the node that serves clients (the standalone server, a cluster's
// leader) keeps beside the replicated records of src/fsm/records.ts — ack timers and
// expirations, stalled flags, delivery scheduling, heartbeats, and the positions it has sent but
// not yet replicated. Each runtime object points at its record; the runtime copies a record's
// values when the op that changed them has been applied, and is rebuilt from the records when
// the node starts serving (runtime.ts).
import type { Channel } from '../store/types.js';
import type { ChannelRecord, ClientRecord, GroupRecord, SubRecord } from '../fsm/records.js';
import type { TimerHandle } from './scheduler.js';
import type { SeqMap } from '../util/seq-window.js';

export { durableKey } from '../fsm/records.js';

export interface ClientState {
  readonly record: ClientRecord;
  readonly id: string;
  readonly hbInbox: string;
  /** connID as a latin1 string key (empty for protocol 0 clients). */
  readonly connId: string;
  readonly createdMs: number;
  /** Consecutive heartbeats without a reply. */
  hbFailed: number;
  hbTimer: TimerHandle | undefined;
  /** A heartbeat request is outstanding: the timer must not start another. */
  hbInFlight: boolean;
  readonly subs: Set<SubscriptionState>;
  /** Closed, or its disconnect is being applied: it takes no more requests or deliveries. */
  closed: boolean;
}

/** One subscription, or the shadow that keeps a durable queue group while it has no member. */
export interface SubscriptionState {
  readonly record: SubRecord;
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
  /** Pending acks: sequence -> expiration (ms since the epoch). Ahead of the record's set. */
  readonly pending: SeqMap;
  stalled: boolean;
  ackTimer: TimerHandle | undefined;
  /** When the ack timer fires (ms), or 0 when not armed. */
  ackTimerAtMs: number;
  /** Nothing is sent before the SubscriptionResponse has been published. */
  initialized: boolean;
  /** Its close or unsubscribe is being applied: nothing more is sent to it. */
  closing: boolean;
  /** A delivery pass is scheduled for this subscription or its group. */
  deliveryScheduled: boolean;
  readonly group: QueueGroupState | undefined;
  readonly redeliveryCounts: Map<number, number>;
  readonly createdMs: number;
  /** Sent and acked sequences not yet handed to the state writer (progress.ts). */
  unreplicatedSent: number[];
  unreplicatedAcked: number[];
  /** Listed among the subscriptions whose progress waits to be replicated. */
  progressQueued: boolean;
}

export interface QueueGroupState {
  readonly record: GroupRecord;
  readonly name: string;
  readonly isDurable: boolean;
  lastSent: number;
  /** Online members; the order rotates for round-robin among equally loaded members. */
  readonly members: SubscriptionState[];
  /** The durable group's state while no member is online. */
  shadow: SubscriptionState | undefined;
  readonly redeliveryCounts: Map<number, number>;
  deliveryScheduled: boolean;
}

export interface ChannelState {
  readonly record: ChannelRecord;
  readonly name: string;
  /** The name in UTF-8, to match acks against without decoding them (null: decode them). */
  readonly nameBytes: Uint8Array | null;
  readonly store: Channel;
  /** Plain and durable subscriptions (not queue members). */
  readonly subs: Set<SubscriptionState>;
  /** Durables by `clientID-channel-durableName`, online or closed. */
  readonly durables: Map<string, SubscriptionState>;
  readonly queueGroups: Map<string, QueueGroupState>;
  /** The sequence the next published message gets (proposed batches included). */
  nextSeq: number;
  /** The subscription ID the next new subscription gets. */
  nextSubId: number;
  /** Highest sequence known durable (fsynced, or committed in a cluster): delivery stops there. */
  deliverable: number;
  /** Timestamp (ns) of the last batch proposed, kept non-decreasing. */
  lastTimestampNs: bigint;
  /** Deletion of an inactive channel is armed. */
  inactivityTimer: TimerHandle | undefined;
  /** The next expiry by max_age is armed. */
  expiryTimer: TimerHandle | undefined;
  /** Its deletion is being applied: publishes and subscriptions are refused meanwhile. */
  deleting: boolean;
}

/** Subscriptions of a channel that are online (plain, online durables, every queue member). */
export function countActiveSubs(channel: ChannelState): number {
  let count = 0;
  for (const sub of channel.subs) if (!sub.isClosed) count++;
  for (const group of channel.queueGroups.values()) count += group.members.length;
  return count;
}

/** Every subscription of a channel: plain, durable (online or not), queue members, shadows. */
export function* channelSubs(channel: ChannelState): Iterable<SubscriptionState> {
  yield* channel.subs;
  for (const group of channel.queueGroups.values()) {
    yield* group.members;
    if (group.shadow !== undefined) yield group.shadow;
  }
}

/** Adopts the values an applied op gave the record (resume: new client, inboxes, limits). */
export function adoptRecord(sub: SubscriptionState): void {
  const record = sub.record;
  sub.clientId = record.clientId;
  sub.inbox = record.inbox;
  sub.ackInbox = record.ackInbox;
  sub.maxInFlight = record.maxInFlight;
  sub.ackWaitMs = record.ackWaitInSecs * 1000;
  sub.isClosed = record.isClosed;
}
