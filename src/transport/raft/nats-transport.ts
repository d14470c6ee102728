// Raft messages between the nodes of a cluster as NATS messages: over the embedded servers' routes
// (each node's in-process connection) or over an external NATS deployment (`-ns`) alike.
//
// A node listens on `_STAN.raft.<cluster-id>.<node-id>`. What it sends to one peer before the
// current task ends (in practice: all of one Ready's messages) leaves in one microtask, packed into
// as few frames as max_payload allows (frames.ts); a message bigger than one payload travels in
// fragments. Every frame is published with the sender's own subject as its reply subject, and its
// header names sender and receiver again: a frame whose three names disagree did not come from the
// node it claims, and is dropped. So is everything malformed: decoding is total and each message
// is validated against the Raft message union before the driver sees it. Sending never blocks or
// throws: a peer nobody listens for, a full queue, a closed connection drop the message and count
// it, and Raft sends again.
import { randomInt } from 'node:crypto';
import type { Logger } from '../../util/logger.js';
import { silentLogger } from '../../util/logger.js';
import { ConfigError } from '../../util/errors.js';
import { RateLimitedWarnings } from '../../util/rate-limited-log.js';
import type { Message } from '../../raft/messages.js';
import type { RaftMessageHandler, RaftTransport } from '../../raft/transport.js';
import { validateMessage } from '../../raft/validate.js';
import type { NatsConnection, NatsSubscription } from '../nats/connection.js';
import { InternalSubjectPrefix } from '../nats/internal-subjects.js';
import { isValidPublishSubject } from '../nats/subject.js';
import { FrameKind, frameBytesMin, packFrames, readFrame, type Frame } from './frames.js';
import { MessageCodec } from './message-codec.js';
import { isValidNodeId } from './node-id.js';
import { Reassembly } from './reassembly.js';

export interface NatsRaftTransportOptions {
  readonly connection: NatsConnection;
  readonly clusterId: string;
  readonly localId: string;
  /** Largest NATS payload published; at most (and by default) the connection's max_payload. */
  readonly frameBytesMax?: number;
  /** Messages queued for one peer before they leave (one task's worth) before more are dropped (default 65536). */
  readonly queuedMessagesMax?: number;
  /** Largest encoded Raft message sent or put together from fragments (default 64 MiB). */
  readonly messageBytesMax?: number;
  /** Bytes held by partially received messages (default 128 MiB). */
  readonly reassemblyBytesMax?: number;
  /** Partially received messages held at once (default 64). */
  readonly reassemblyPartialsMax?: number;
  /** Longest a fragmented message may stay incomplete (default 10 s). */
  readonly reassemblyTimeoutMs?: number;
  readonly logger?: Logger;
}

export interface NatsRaftTransportStats {
  readonly messagesSent: number;
  readonly framesSent: number;
  /** Frames that carried a fragment of a message (counted in framesSent too). */
  readonly fragmentsSent: number;
  readonly bytesSent: number;
  readonly messagesReceived: number;
  readonly framesReceived: number;
  readonly fragmentsReceived: number;
  readonly bytesReceived: number;
  /** Messages put together from fragments (counted in messagesReceived too). */
  readonly messagesReassembled: number;
  /** Messages not sent: nobody listens for the peer (it is down or cut off). */
  readonly droppedUnreachable: number;
  /** Messages not sent: the peer's queue was full. */
  readonly droppedQueueFull: number;
  /** Messages not sent: the transport or its connection is closed, or the peer ID is not one. */
  readonly droppedNotSent: number;
  /** Messages not sent: encoded bigger than messageBytesMax. */
  readonly droppedTooLarge: number;
  /** Frames or messages received that do not decode, or fail the message union's checks. */
  readonly droppedMalformed: number;
  /** Frames received whose sender or receiver does not match the subjects they travelled on. */
  readonly droppedForged: number;
  /** Messages received before a handler was installed. */
  readonly droppedNoHandler: number;
  /** Fragmented messages given up: incomplete too long, evicted for room, or refused. */
  readonly reassembliesExpired: number;
  readonly reassembliesEvicted: number;
  readonly reassembliesRefused: number;
  /** Partially received messages held now, and their bytes. */
  readonly reassemblyPartials: number;
  readonly reassemblyBytes: number;
  /**
   * Empty messages on this node's subject: nats-server's no-responders status, sent back to the
   * reply subject of a frame that nobody received (with -ns, a peer that is down or cut off).
   */
  readonly noRespondersReceived: number;
  /** The handler threw (logged; delivery goes on). */
  readonly handlerErrors: number;
}

type Counters = { -readonly [K in Exclude<keyof NatsRaftTransportStats, `reassembl${string}`>]: number };

export class NatsRaftTransport implements RaftTransport<Message> {
  readonly localId: string;
  /** This node's inbox subject. */
  readonly subject: string;
  private readonly connection: NatsConnection;
  private readonly subjectPrefix: string;
  private readonly frameBytesMaxOption: number;
  private readonly queuedMessagesMax: number;
  private readonly messageBytesMax: number;
  private readonly codec = new MessageCodec();
  private readonly reassembly: Reassembly;
  private readonly logger: Logger;
  private readonly dropLog: RateLimitedWarnings;
  private readonly subscription: NatsSubscription;
  /** Messages waiting for the end of the current task, by peer. */
  private readonly queues = new Map<string, Message[]>();
  /** Peers whose last send found nobody listening, to log the change once. */
  private readonly unreachablePeers = new Set<string>();
  private handler: RaftMessageHandler<Message> | undefined;
  private flushScheduled = false;
  private closed = false;
  private nextMessageId = randomInt(0x1_0000_0000);
  private readonly counters: Counters = {
    messagesSent: 0,
    framesSent: 0,
    fragmentsSent: 0,
    bytesSent: 0,
    messagesReceived: 0,
    framesReceived: 0,
    fragmentsReceived: 0,
    bytesReceived: 0,
    messagesReassembled: 0,
    droppedUnreachable: 0,
    droppedQueueFull: 0,
    droppedNotSent: 0,
    droppedTooLarge: 0,
    droppedMalformed: 0,
    droppedForged: 0,
    droppedNoHandler: 0,
    noRespondersReceived: 0,
    handlerErrors: 0,
  };

  constructor(options: NatsRaftTransportOptions) {
    const { clusterId, localId } = options;
    this.subjectPrefix = `${InternalSubjectPrefix.raft}${clusterId}.`;
    if (!isValidNodeId(localId)) throw new ConfigError(`invalid raft node ID '${localId}'`);
    if (!isValidPublishSubject(`${this.subjectPrefix}${localId}`)) {
      throw new ConfigError(`cluster ID '${clusterId}' cannot be part of a NATS subject`);
    }
    this.localId = localId;
    this.subject = this.subjectOf(localId);
    this.connection = options.connection;
    this.frameBytesMaxOption = options.frameBytesMax ?? Infinity;
    this.queuedMessagesMax = options.queuedMessagesMax ?? 65_536;
    this.messageBytesMax = options.messageBytesMax ?? 64 * 1024 * 1024;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'raft-transport', node: localId });
    this.dropLog = new RateLimitedWarnings(this.logger);
    this.reassembly = new Reassembly(
      {
        messageBytesMax: this.messageBytesMax,
        bytesMax: options.reassemblyBytesMax ?? 128 * 1024 * 1024,
        partialsMax: options.reassemblyPartialsMax ?? 64,
        timeoutMs: options.reassemblyTimeoutMs ?? 10_000,
      },
      (reason, from, messageId) => this.dropLog.warn('fragmented raft message dropped', { reason, from, messageId }),
    );
    if (this.frameBytesMax < frameBytesMin(localId, 'x'.repeat(64))) {
      throw new ConfigError(`a raft frame of ${this.frameBytesMax} bytes cannot carry a fragment`);
    }
    this.subscription = this.connection.subscribe(this.subject, (subject, reply, payload) => this.receive(subject, reply, payload));
  }

  send(to: string, message: Message): void {
    if (this.closed || this.connection.isClosed || to === this.localId || !isValidNodeId(to)) {
      this.counters.droppedNotSent++;
      return;
    }
    let queue = this.queues.get(to);
    if (queue === undefined) this.queues.set(to, (queue = []));
    if (queue.length >= this.queuedMessagesMax) {
      this.counters.droppedQueueFull++;
      return;
    }
    queue.push(message);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  onMessage(handler: RaftMessageHandler<Message>): void {
    this.handler = handler;
  }

  stats(): NatsRaftTransportStats {
    const reassembly = this.reassembly.stats();
    return {
      ...this.counters,
      reassembliesExpired: reassembly.expired,
      reassembliesEvicted: reassembly.evicted,
      reassembliesRefused: reassembly.refused,
      reassemblyPartials: this.reassembly.partialCount,
      reassemblyBytes: this.reassembly.partialBytes,
    };
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.handler = undefined;
    this.subscription.unsubscribe();
    for (const queue of this.queues.values()) this.counters.droppedNotSent += queue.length;
    this.queues.clear();
    this.reassembly.clear();
    return Promise.resolve();
  }

  private subjectOf(nodeId: string): string {
    return `${this.subjectPrefix}${nodeId}`;
  }

  /** The payload bound for frames: the option, never above the connection's max_payload (read each time: a reconnect may change it). */
  private get frameBytesMax(): number {
    return Math.min(this.frameBytesMaxOption, this.connection.maxPayloadBytes);
  }

  // ---- sending ----

  private flush(): void {
    this.flushScheduled = false;
    const queues = [...this.queues];
    this.queues.clear();
    for (const [to, queue] of queues) {
      if (this.closed || this.connection.isClosed) {
        this.counters.droppedNotSent += queue.length;
        continue;
      }
      this.sendQueued(to, queue);
    }
  }

  private sendQueued(to: string, queue: readonly Message[]): void {
    const subject = this.subjectOf(to);
    if (!this.isReachable(to, subject)) {
      this.counters.droppedUnreachable += queue.length;
      return;
    }
    const encoded: Uint8Array[] = [];
    for (const message of queue) {
      const bytes = this.codec.encode(message);
      if (bytes.length > this.messageBytesMax) {
        this.counters.droppedTooLarge++;
        this.dropLog.warn('raft message too large to send', { to, type: message.type, bytes: bytes.length });
        continue;
      }
      encoded.push(bytes);
    }
    const frames = packFrames(this.localId, to, encoded, this.frameBytesMax, () => this.takeMessageId());
    for (const frame of frames) {
      if (frame[1] === FrameKind.Fragment) this.counters.fragmentsSent++;
      this.counters.framesSent++;
      this.counters.bytesSent += frame.length;
      try {
        this.connection.publish(subject, frame, this.subject);
      } catch (error) {
        // A connection must not throw into Raft; if one does, the frame is lost like any other.
        this.logger.error({ err: error, to }, 'publishing a raft frame failed');
      }
    }
    this.counters.messagesSent += encoded.length;
  }

  /** Whether anyone listens for `to`; logs when that changes. Unknown (an external server) counts as yes. */
  private isReachable(to: string, subject: string): boolean {
    const reachable = this.connection.hasInterest(subject) !== false;
    if (reachable === !this.unreachablePeers.has(to)) return reachable;
    if (reachable) {
      this.unreachablePeers.delete(to);
      this.logger.info({ peer: to }, 'raft peer reachable again');
    } else {
      this.unreachablePeers.add(to);
      this.logger.info({ peer: to }, 'raft peer unreachable: nobody listens on its subject; dropping what is sent to it');
    }
    return reachable;
  }

  private takeMessageId(): number {
    const id = this.nextMessageId;
    this.nextMessageId = (this.nextMessageId + 1) >>> 0;
    return id;
  }

  // ---- receiving ----

  private receive(subject: string, reply: string | undefined, payload: Uint8Array): void {
    if (this.closed) return;
    if (payload.length === 0) {
      // No frame is empty: this is the server telling that one of ours reached nobody.
      this.counters.noRespondersReceived++;
      return;
    }
    this.counters.framesReceived++;
    this.counters.bytesReceived += payload.length;
    const frame = readFrame(payload);
    if (typeof frame === 'string') {
      this.counters.droppedMalformed++;
      this.dropLog.warn('malformed raft frame dropped', { reason: frame, reply, bytes: payload.length });
      return;
    }
    const forgery = this.checkEnvelope(frame, subject, reply);
    if (forgery !== undefined) {
      this.counters.droppedForged++;
      this.dropLog.warn('forged raft frame dropped', { reason: forgery, reply, from: frame.from, to: frame.to });
      return;
    }
    if (frame.kind === FrameKind.Batch) {
      for (const bytes of frame.messages) this.deliver(bytes, frame.from);
      return;
    }
    this.counters.fragmentsReceived++;
    const whole = this.reassembly.add(frame);
    if (whole === undefined) return;
    this.counters.messagesReassembled++;
    this.deliver(whole, frame.from);
  }

  /** Why the frame's envelope does not hold together, if it does not. */
  private checkEnvelope(frame: Frame, subject: string, reply: string | undefined): string | undefined {
    if (subject !== this.subject || frame.to !== this.localId) return `frame for '${frame.to}' on ${subject}`;
    if (!isValidNodeId(frame.from) || frame.from === this.localId) return `bad sender '${frame.from}'`;
    if (reply !== this.subjectOf(frame.from)) return `sender '${frame.from}' replies to ${String(reply)}`;
    return undefined;
  }

  private deliver(bytes: Uint8Array, from: string): void {
    const message = this.codec.decode(bytes, from, this.localId);
    if (typeof message === 'string') {
      this.counters.droppedMalformed++;
      this.dropLog.warn('malformed raft message dropped', { reason: message, from });
      return;
    }
    try {
      validateMessage(message, this.localId);
    } catch (error) {
      this.counters.droppedMalformed++;
      this.dropLog.warn('invalid raft message dropped', { reason: (error as Error).message, from });
      return;
    }
    const handler = this.handler;
    if (handler === undefined) {
      this.counters.droppedNoHandler++;
      return;
    }
    this.counters.messagesReceived++;
    try {
      handler(message, from);
    } catch (error) {
      this.counters.handlerErrors++;
      this.logger.error({ err: error, from, type: message.type }, 'raft message handler threw');
    }
  }
}
