// Every change of streaming state, as an operation. The leader decides every value an op carries
// (sequences, timestamps, subscription IDs, ack inboxes, start positions, expiry times), so that
// applying the op reads no clock, no random source and no live runtime state, and every node that
// applies the same ops in the same order ends in the same state.

/** A client registers; `replace` closes a registered client with that ID first (its probe failed). */
export interface ConnectOp {
  readonly type: 'connect';
  readonly clientId: string;
  readonly hbInbox: string;
  readonly connId: Uint8Array;
  readonly protocol: number;
  readonly pingInterval: number;
  readonly pingMaxOut: number;
  readonly replace: boolean;
}

/** A client unregisters: plain subscriptions go, durables go offline, queue members leave. */
export interface DisconnectOp {
  readonly type: 'disconnect';
  readonly clientId: string;
}

/** A channel is created (first publish or subscribe); limits are checked when it is applied. */
export interface CreateChannelOp {
  readonly type: 'createChannel';
  readonly channel: string;
}

export interface PublishedMsg {
  readonly reply: string;
  readonly data: Uint8Array;
}

/** A batch of messages for one channel: sequences firstSeq, firstSeq+1, ... and one timestamp. */
export interface PublishOp {
  readonly type: 'publish';
  readonly channel: string;
  readonly firstSeq: number;
  readonly timestampNs: bigint;
  readonly msgs: readonly PublishedMsg[];
}

/**
 * A subscription request, resolved: the ID a new subscription takes, its ack inbox, and where it
 * starts (lastSent; delivery starts after it). A durable that resumes or a queue group that is
 * joined keeps its own position and ID, as the reference does.
 */
export interface SubscribeOp {
  readonly type: 'subscribe';
  readonly channel: string;
  readonly subId: number;
  readonly clientId: string;
  readonly qGroup: string;
  readonly durableName: string;
  readonly inbox: string;
  readonly ackInbox: string;
  readonly maxInFlight: number;
  readonly ackWaitInSecs: number;
  readonly startLastSent: number;
  /** `--replace_durable`: an online durable with this key is closed and taken over. */
  readonly replaceDurable: boolean;
}

/** Unsubscribe (state deleted) or close (a durable is kept offline) of one subscription. */
export interface UnsubscribeOp {
  readonly type: 'unsubscribe';
  readonly channel: string;
  readonly subId: number;
  readonly clientId: string;
  /** True: the state goes; false: a subscription close that keeps durable state. */
  readonly remove: boolean;
}

export interface SentAndAcked {
  readonly subId: number;
  /** Sequences handed to the subscriber (now pending). */
  readonly sent: readonly number[];
  /** Sequences acknowledged (no longer pending), applied after `sent`. */
  readonly acked: readonly number[];
}

/** Delivery progress of a channel's subscriptions, batched by the leader. */
export interface SentAckOp {
  readonly type: 'sentAck';
  readonly channel: string;
  readonly subs: readonly SentAndAcked[];
}

/**
 * Deletion of an inactive channel. It carries the identity and last sequence the leader saw, so
 * that a channel re-created or published to since the decision is left alone.
 */
export interface DeleteChannelOp {
  readonly type: 'deleteChannel';
  readonly channel: string;
  readonly channelId: number;
  readonly lastSeq: number;
}

/**
 * Messages past max_age are dropped: every message up to `throughSeq`, which the leader found
 * older than the limit. A sequence, not a time, so that a store holding more than it did when the
 * leader decided (a replay after a crash) drops exactly the same messages.
 */
export interface ExpireOp {
  readonly type: 'expire';
  readonly channel: string;
  readonly throughSeq: number;
}

export type Op =
  | ConnectOp
  | DisconnectOp
  | CreateChannelOp
  | PublishOp
  | SubscribeOp
  | UnsubscribeOp
  | SentAckOp
  | DeleteChannelOp
  | ExpireOp;

export type OpType = Op['type'];

/** What applying one op gave. `error` is '' on success, else the reference's wire text. */
export type OpResult =
  | { readonly type: 'ok'; readonly error: '' }
  | { readonly type: 'error'; readonly error: string }
  | { readonly type: 'subscribed'; readonly error: ''; readonly subId: number; readonly resumed: boolean }
  | {
      readonly type: 'closed';
      readonly error: '';
      /** Pending messages of departed queue members, and the member each now waits on. */
      readonly reassigned: readonly Reassignment[];
    }
  | { readonly type: 'expired'; readonly error: ''; readonly dropped: number };

export interface Reassignment {
  readonly channel: string;
  readonly fromSubId: number;
  readonly toSubId: number;
  readonly seq: number;
}

export const OK: OpResult = Object.freeze({ type: 'ok', error: '' });

export function failed(error: string): OpResult {
  return { type: 'error', error };
}
