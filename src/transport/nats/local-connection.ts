// The in-process client of the embedded server: what the STAN server and the Raft transport use
// when NATS runs inside this process. No socket and no framing: messages from sockets are handed
// to callbacks synchronously; messages published in-process are queued and delivered in one
// microtask, so a publisher is never re-entered from its own publish call.
import { Nuid } from '../../util/nuid.js';
import {
  RequestError,
  type MsgCallback,
  type NatsConnection,
  type NatsSubscription,
  type ReplyCallback,
} from './connection.js';
import { ConnectionKind, Subscription, type MessageTarget } from './subscription.js';

/** What a local connection needs from the embedded server. */
export interface LocalServerCore {
  readonly maxPayloadBytes: number;
  addSubscription(subscription: Subscription): void;
  removeSubscription(subscription: Subscription): void;
  routeMessage(origin: MessageTarget, subject: string, reply: string | undefined, headerBytes: number, payload: Uint8Array, wantsNoResponders: boolean): void;
  hasInterest(subject: string): boolean;
  onLocalClosed(connection: LocalConnection): void;
  /** A subscriber callback threw: logged, and delivery to everyone else goes on. */
  reportCallbackError(connection: LocalConnection, error: unknown): void;
}

interface QueuedDelivery {
  subscription: Subscription;
  subject: string;
  reply: string | undefined;
  payload: Uint8Array;
}

interface PendingRequest {
  callback: ReplyCallback;
  timer: NodeJS.Timeout;
}

class LocalSubscription extends Subscription implements NatsSubscription {
  constructor(
    private readonly connection: LocalConnection,
    sid: string,
    subject: string,
    queue: string,
    readonly callback: MsgCallback,
  ) {
    super(connection, sid, subject, queue);
  }

  unsubscribe(): void {
    this.connection.removeSubscription(this);
  }

  autoUnsubscribe(max: number): void {
    if (this.delivered >= max) this.connection.removeSubscription(this);
    else this.remaining = max - this.delivered;
  }
}

export class LocalConnection implements NatsConnection, MessageTarget {
  readonly kind = ConnectionKind.Local;
  readonly echo = true;
  readonly stats = { inMsgs: 0, outMsgs: 0, inBytes: 0, outBytes: 0 };
  readonly startedAt = new Date();
  private readonly subscriptions = new Map<string, LocalSubscription>();
  private readonly nuid = new Nuid();
  private nextSid = 1;
  private closed = false;
  private queue: QueuedDelivery[] = [];
  private drainScheduled = false;
  private replyPrefix = '';
  private replySubscription: LocalSubscription | null = null;
  private readonly requests = new Map<string, PendingRequest>();
  private nextRequestId = 1;

  constructor(
    readonly id: number,
    readonly name: string,
    private readonly server: LocalServerCore,
    /** Returns true while the message being routed was published in-process. */
    private readonly originIsLocal: () => boolean,
    private readonly inboxPrefix = '_INBOX',
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  get maxPayloadBytes(): number {
    return this.server.maxPayloadBytes;
  }

  hasInterest(subject: string): boolean {
    return this.server.hasInterest(subject);
  }

  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  publish(subject: string, payload: Uint8Array, reply?: string): void {
    if (this.closed) return;
    this.stats.inMsgs++;
    this.stats.inBytes += payload.length;
    this.server.routeMessage(this, subject, reply, 0, payload, false);
  }

  subscribe(subject: string, callback: MsgCallback, queue = ''): NatsSubscription {
    const subscription = new LocalSubscription(this, String(this.nextSid++), subject, queue, callback);
    if (this.closed) return subscription;
    this.subscriptions.set(subscription.sid, subscription);
    this.server.addSubscription(subscription);
    return subscription;
  }

  removeSubscription(subscription: Subscription): void {
    if (this.subscriptions.delete(subscription.sid)) this.server.removeSubscription(subscription);
  }

  request(subject: string, payload: Uint8Array, timeoutMs: number, callback: ReplyCallback): void {
    if (this.closed) {
      queueMicrotask(() => callback(RequestError.Closed, null));
      return;
    }
    if (!this.server.hasInterest(subject)) {
      queueMicrotask(() => callback(RequestError.NoResponders, null));
      return;
    }
    if (!this.replySubscription) {
      this.replyPrefix = `${this.newInbox()}.`;
      this.replySubscription = this.subscribe(`${this.replyPrefix}*`, (replySubject, _reply, replyPayload) =>
        this.onReply(replySubject, replyPayload),
      ) as LocalSubscription;
    }
    const token = String(this.nextRequestId++);
    const timer = setTimeout(() => {
      if (this.requests.delete(token)) callback(RequestError.Timeout, null);
    }, timeoutMs);
    this.requests.set(token, { callback, timer });
    this.publish(subject, payload, this.replyPrefix + token);
  }

  private onReply(subject: string, payload: Uint8Array): void {
    const token = subject.slice(this.replyPrefix.length);
    const pending = this.requests.get(token);
    if (!pending) return;
    this.requests.delete(token);
    clearTimeout(pending.timer);
    pending.callback(null, payload);
  }

  newInbox(): string {
    return `${this.inboxPrefix}.${this.nuid.next()}`;
  }

  flush(callback: (error: Error | null) => void): void {
    // Everything published has already been routed; wait for queued in-process deliveries.
    queueMicrotask(() => setImmediate(() => callback(this.closed ? new Error('connection closed') : null)));
  }

  deliver(subscription: Subscription, subject: string, reply: string | undefined, headerBytes: number, payload: Uint8Array): boolean {
    if (this.closed) return false;
    const body = headerBytes > 0 ? payload.subarray(headerBytes) : payload;
    this.stats.outMsgs++;
    this.stats.outBytes += body.length;
    if (this.originIsLocal()) {
      this.queue.push({ subscription, subject, reply, payload: body });
      if (!this.drainScheduled) {
        this.drainScheduled = true;
        queueMicrotask(() => this.drain());
      }
    } else {
      this.invoke(subscription as LocalSubscription, subject, reply, body);
    }
    return false;
  }

  private invoke(subscription: LocalSubscription, subject: string, reply: string | undefined, payload: Uint8Array): void {
    try {
      subscription.callback(subject, reply, payload);
    } catch (error) {
      this.server.reportCallbackError(this, error);
    }
  }

  private drain(): void {
    this.drainScheduled = false;
    const queue = this.queue;
    this.queue = [];
    for (const item of queue) {
      if (this.closed) return;
      this.invoke(item.subscription as LocalSubscription, item.subject, item.reply, item.payload);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const subscription of this.subscriptions.values()) this.server.removeSubscription(subscription);
    this.subscriptions.clear();
    for (const pending of this.requests.values()) {
      clearTimeout(pending.timer);
      queueMicrotask(() => pending.callback(RequestError.Closed, null));
    }
    this.requests.clear();
    this.queue = [];
    this.server.onLocalClosed(this);
  }
}
