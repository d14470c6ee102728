// Publish handling: validation on arrival, then the publishes of one event-loop turn gathered per
// channel into ONE store write; deliveries and PubAcks follow once the store reports the batch
// durable (PROTOCOL.md §1.4). No Promise per message: one per channel per batch.
import type { MsgProto } from '../store/records.js';
import { decodeCtrlMsg } from '../store/records.js';
import { StanErrors } from './errors.js';
import { isValidChannel } from './names.js';
import { encodePubAckFast } from './protocol.js';
import { PubMsgDecoder, guidOf, guidOfPubAck, successPubAck } from './pub-decoder.js';
import type { ServerContext } from './context.js';
import type { ClientRegistry } from './clients.js';
import { armInactivity, getOrCreateChannel } from './channels.js';
import type { ChannelState } from './state.js';

interface PendingPublish {
  readonly msg: MsgProto;
  /** The PubAck sent on success; it carries the guid (guidOfPubAck). Empty when none is wanted. */
  readonly ack: Buffer;
  /** Where the PubAck goes; '' when the publisher asked for none. */
  readonly ackSubject: string;
}

const NO_ACK = Buffer.alloc(0);

export class Publisher {
  /** Publishes received this turn, per channel name, in arrival order. */
  private batches = new Map<string, PendingPublish[]>();
  private queued = 0;
  private flushScheduled = false;
  /** Batches handed to the store and not yet acknowledged. */
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private accepting = true;
  private readonly decoder = new PubMsgDecoder();

  constructor(
    private readonly ctx: ServerContext,
    private readonly clients: ClientRegistry,
  ) {}

  /** NATS callback for `_STAN.pub.<cid>.>`; `payload` is valid only during the call. */
  onPublish(reply: string | undefined, payload: Uint8Array): void {
    const ackSubject = reply ?? '';
    const pub = this.decoder.decode(payload);
    if (pub === null) {
      if (this.isCtrlMsg(payload)) return;
      this.sendAck(ackSubject, '', StanErrors.invalidPublishRequest);
      return;
    }
    if (!this.accepting) return;
    // A known channel was validated when it was created.
    const knownChannel = this.ctx.channels.has(pub.subject);
    if (pub.guidEnd === pub.guidStart || (!knownChannel && !isValidChannel(pub.subject)) || !this.clients.isValidPublisher(pub.clientID, pub.connId)) {
      this.sendAck(ackSubject, guidOf(pub), StanErrors.invalidPublishRequest);
      return;
    }
    if (this.queued >= this.ctx.options.publishQueueMax) {
      this.sendAck(ackSubject, guidOf(pub), 'stan: publish queue is full');
      return;
    }
    const msg: MsgProto = {
      sequence: 0,
      subject: pub.subject,
      reply: pub.reply,
      // The decoder hands out a view of the NATS buffer, which the connection may reuse.
      data: pub.data.length === 0 ? pub.data : Buffer.from(pub.data),
      timestamp: 0n,
      redelivered: false,
      redeliveryCount: 0,
      crc32: 0,
    };
    let batch = this.batches.get(pub.subject);
    if (batch === undefined) {
      batch = [];
      this.batches.set(pub.subject, batch);
    }
    batch.push({ msg, ack: ackSubject === '' ? NO_ACK : successPubAck(pub), ackSubject });
    this.queued++;
    this.ctx.counters.msgsIn++;
    this.ctx.counters.bytesIn += msg.data.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        try {
          this.flush();
        } catch (error) {
          this.ctx.logger.error({ err: error }, 'publish flush failed');
        }
      });
    }
  }

  private isCtrlMsg(payload: Uint8Array): boolean {
    try {
      decodeCtrlMsg(payload);
      return true;
    } catch {
      return false;
    }
  }

  private sendAck(subject: string, guid: string, error: string): void {
    if (subject === '') return;
    this.ctx.send.publish(subject, encodePubAckFast(guid, error));
  }

  private flush(): void {
    this.flushScheduled = false;
    const batches = this.batches;
    this.batches = new Map();
    for (const [name, pending] of batches) {
      this.queued -= pending.length;
      const channel = this.ctx.channels.get(name);
      if (channel !== undefined) this.storeBatches(channel, pending);
      else this.createThenStore(name, pending);
    }
    this.notifyIfIdle();
  }

  private createThenStore(name: string, pending: PendingPublish[]): void {
    this.inFlight++;
    getOrCreateChannel(this.ctx, name).then(
      (channel) => {
        this.storeBatches(channel, pending);
        this.settle();
      },
      (error: unknown) => {
        const text = error instanceof Error ? error.message : String(error);
        for (const p of pending) this.sendAck(p.ackSubject, guidOfPubAck(p.ack), text);
        this.settle();
      },
    );
  }

  /** Splits a turn's publishes into store writes of at most ioBatchSize messages. */
  private storeBatches(channel: ChannelState, pending: PendingPublish[]): void {
    const size = this.ctx.options.ioBatchSize;
    if (pending.length <= size) {
      this.store(channel, pending);
      return;
    }
    for (let i = 0; i < pending.length; i += size) this.store(channel, pending.slice(i, i + size));
  }

  private store(channel: ChannelState, pending: PendingPublish[]): void {
    if (channel.deleting) {
      for (const p of pending) this.sendAck(p.ackSubject, guidOfPubAck(p.ack), StanErrors.channelBeingDeleted);
      return;
    }
    // Timestamps in ns, non-decreasing per channel even if the wall clock steps back.
    let now = BigInt(Date.now()) * 1_000_000n;
    if (now < channel.lastTimestampNs) now = channel.lastTimestampNs;
    const msgs: MsgProto[] = new Array<MsgProto>(pending.length);
    for (let i = 0; i < pending.length; i++) {
      const msg = pending[i]!.msg;
      msg.timestamp = now;
      msgs[i] = msg;
    }
    channel.lastTimestampNs = now;
    const observe = this.ctx.observeStoreWrite;
    const startNs = observe === undefined ? 0n : process.hrtime.bigint();
    let durable: Promise<void>;
    try {
      durable = channel.store.msgs.storeBatch(msgs).durable;
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      for (const p of pending) this.sendAck(p.ackSubject, guidOfPubAck(p.ack), text);
      return;
    }
    // Subscribers may see the batch before its publishers get their acks, as in the reference.
    this.ctx.delivery.deliverNew(channel);
    armInactivity(this.ctx, channel);
    this.inFlight++;
    durable.then(
      () => {
        if (observe !== undefined) observe(startNs, process.hrtime.bigint());
        for (const p of pending) if (p.ackSubject !== '') this.ctx.send.publish(p.ackSubject, p.ack);
        this.settle();
      },
      (error: unknown) => {
        const text = error instanceof Error ? error.message : String(error);
        this.ctx.logger.error({ err: error, channel: channel.name }, 'storing messages failed');
        for (const p of pending) this.sendAck(p.ackSubject, guidOfPubAck(p.ack), text);
        this.settle();
      },
    );
  }

  private settle(): void {
    this.inFlight--;
    this.notifyIfIdle();
  }

  private notifyIfIdle(): void {
    if (this.inFlight === 0 && this.batches.size === 0 && !this.flushScheduled) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Stops taking publishes and resolves once every accepted one has been stored and answered. */
  drain(): Promise<void> {
    this.accepting = false;
    if (this.inFlight === 0 && this.batches.size === 0 && !this.flushScheduled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
