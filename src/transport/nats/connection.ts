// What the rest of tstan (the STAN server, the Raft transport) sees of NATS. Two implementations:
// the embedded server's in-process client (no socket) and the `nats` npm client against an
// external deployment (`-ns`). Callbacks only, so the hot paths make no Promise per message.

/**
 * A delivered message. `payload` is valid only for the duration of the call: a callback that
 * keeps the bytes must copy them (`payload.slice()`), because the server may reuse the buffer.
 */
export type MsgCallback = (subject: string, reply: string | undefined, payload: Uint8Array) => void;

export interface NatsSubscription {
  readonly subject: string;
  /** Stops delivery at once. Idempotent. */
  unsubscribe(): void;
  /** Stops delivery after `max` messages in total have been delivered to this subscription. */
  autoUnsubscribe(max: number): void;
}

export const RequestError = {
  Timeout: 'REQUEST_TIMEOUT',
  /** Nobody, local or routed, has interest in the subject: answered at once, as nats-server's 503. */
  NoResponders: 'NO_RESPONDERS',
  Closed: 'CONNECTION_CLOSED',
} as const;
export type RequestError = (typeof RequestError)[keyof typeof RequestError];

/** `payload` follows the MsgCallback rule: valid only during the call. */
export type ReplyCallback = (error: RequestError | null, payload: Uint8Array | null) => void;

export interface NatsConnection {
  /** Connection name as shown in /connz, e.g. `_NSS-test-cluster-general`. */
  readonly name: string;
  readonly isClosed: boolean;
  /** The largest payload the server accepts (its max_payload): a larger publish is dropped. */
  readonly maxPayloadBytes: number;
  /**
   * Whether anyone, local or across routes, subscribes to the literal `subject`; undefined when
   * the connection cannot know (an external server keeps that to itself).
   */
  hasInterest(subject: string): boolean | undefined;
  /** Takes the payload over: the caller must not change it afterwards. */
  publish(subject: string, payload: Uint8Array, reply?: string): void;
  subscribe(subject: string, callback: MsgCallback, queue?: string): NatsSubscription;
  /** One reply, or an error: timeout, no responders, or the connection closed. */
  request(subject: string, payload: Uint8Array, timeoutMs: number, callback: ReplyCallback): void;
  /** A unique `<inbox prefix>.<id>` subject (`_INBOX.<id>` unless the connection was opened with another prefix). */
  newInbox(): string;
  /** Calls back once everything published before it has been handed to the server. */
  flush(callback: (error: Error | null) => void): void;
  close(): Promise<void>;
}

export interface ConnectionSettings {
  /**
   * Prefix of the connection's inboxes and request replies instead of `_INBOX`. The nodes' own
   * requests to each other take one under an internal prefix, so that their answers (fetched
   * messages among them) travel on subjects no client can subscribe to, not on `_INBOX.>`.
   */
  readonly inboxPrefix?: string;
}

/** Opens named connections: the embedded server's, or one to an external NATS deployment. */
export interface NatsConnector {
  connect(name: string, settings?: ConnectionSettings): Promise<NatsConnection>;
}
