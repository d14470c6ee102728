// Publish handling: validation on arrival, then the publishes of one event-loop turn gathered per
// channel into ONE publish op (sequences and timestamp decided here, by the serving node). PubAcks
// and deliveries follow only once the writer reports the op durable (fsynced standalone,
// committed in a cluster): subscribers first, then publishers, as the reference's I/O loop does.
// An op whose outcome is in doubt gets no PubAck at all: the client's timeout decides.
// No Promise per message: one per channel per batch.
import { decodeCtrlMsg } from '../store/records.js';
import type { PublishedMsg } from '../fsm/ops.js';
import { InDoubtError } from '../fsm/writer.js';
import { StanErrors } from './errors.js';
import { isValidChannel } from './names.js';
import { encodePubAckFast } from './protocol.js';
import { PubMsgDecoder, guidOf, guidOfPubAck } from './pub-decoder.js';
import { PublishArena, type PendingPublish } from './pending-publish.js';
import type { ServerContext } from './context.js';
import type { ClientRegistry } from './clients.js';
import { armInactivity, getOrCreateChannel, scheduleExpiry } from './channels.js';
import type { ChannelState } from './state.js';

/** Most bytes of message data in one publish op; a bigger message goes alone. */
const PUBLISH_OP_BYTES_MAX = 4 * 1024 * 1024;

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
  private readonly arena = new PublishArena();
  /** The last PubAck subject seen: a client's publishes share one, kept as one string. */
  private ackSubjectSeen = '';

  constructor(
    private readonly ctx: ServerContext,
    private readonly clients: ClientRegistry,
  ) {}

  /** NATS callback for `_STAN.pub.<cid>.>`; `payload` is valid only during the call. */
  onPublish(reply: string | undefined, payload: Uint8Array): void {
    let ackSubject = reply ?? '';
    if (ackSubject === this.ackSubjectSeen) ackSubject = this.ackSubjectSeen;
    else this.ackSubjectSeen = ackSubject;
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
    // The decoder hands out views of the NATS buffer, which the connection may reuse.
    const pending = this.arena.take(pub, ackSubject);
    let batch = this.batches.get(pub.subject);
    if (batch === undefined) {
      batch = [];
      this.batches.set(pub.subject, batch);
    }
    batch.push(pending);
    this.queued++;
    this.ctx.counters.msgsIn++;
    this.ctx.counters.bytesIn += pending.dataLength;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.ctx.scheduler.setImmediate(() => {
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
        for (const p of pending) this.sendAck(p.ackSubject, guidOfPubAck(p.pubAck()), text);
        this.settle();
      },
    );
  }

  /** Splits a turn's publishes into ops of at most ioBatchSize messages and bounded bytes. */
  private storeBatches(channel: ChannelState, pending: PendingPublish[]): void {
    const size = this.ctx.options.ioBatchSize;
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < pending.length; i++) {
      const length = pending[i]!.dataLength;
      if (i > start && (i - start >= size || bytes + length > PUBLISH_OP_BYTES_MAX)) {
        this.store(channel, pending.slice(start, i));
        start = i;
        bytes = 0;
      }
      bytes += length;
    }
    this.store(channel, start === 0 ? pending : pending.slice(start));
  }

  private store(channel: ChannelState, pending: PendingPublish[]): void {
    if (channel.deleting) {
      for (const p of pending) this.sendAck(p.ackSubject, guidOfPubAck(p.pubAck()), StanErrors.channelBeingDeleted);
      return;
    }
    const ctx = this.ctx;
    // Timestamps in ns, non-decreasing per channel even if the wall clock steps back.
    let now = BigInt(ctx.scheduler.nowMs()) * 1_000_000n;
    if (now < channel.lastTimestampNs) now = channel.lastTimestampNs;
    channel.lastTimestampNs = now;
    // The pending publishes are the op's messages (reply and data): no array or object more.
    const msgs: readonly PublishedMsg[] = pending;
    const firstSeq = channel.nextSeq;
    const lastSeq = firstSeq + pending.length - 1;
    channel.nextSeq = lastSeq + 1;
    const observe = ctx.observeStoreWrite;
    const startNs = observe === undefined ? 0n : process.hrtime.bigint();
    this.inFlight++;
    ctx.writer.submit([{ type: 'publish', channel: channel.name, firstSeq, timestampNs: now, msgs }]).then(
      ([result]) => {
        if (observe !== undefined) observe(startNs, process.hrtime.bigint());
        if (result!.error !== '') this.refused(channel, pending, result!.error);
        else this.stored(channel, pending, lastSeq);
        this.settle();
      },
      (error: unknown) => {
        if (error instanceof InDoubtError) {
          this.ctx.logger.debug({ channel: channel.name, firstSeq, lastSeq }, 'publish outcome in doubt: no PubAcks');
        } else {
          this.refused(channel, pending, error instanceof Error ? error.message : String(error));
        }
        this.settle();
      },
    );
  }

  /** Durable: subscribers get the messages, then their publishers the PubAcks. */
  private stored(channel: ChannelState, pending: PendingPublish[], lastSeq: number): void {
    if (lastSeq > channel.deliverable) channel.deliverable = lastSeq;
    const ctx = this.ctx;
    ctx.delivery.deliverNew(channel);
    for (const p of pending) if (p.ackSubject !== '') ctx.send.publish(p.ackSubject, p.pubAck());
    armInactivity(ctx, channel);
    scheduleExpiry(ctx, channel);
  }

  /** Known not stored: its publishers hear why, and sequences continue from what was applied. */
  private refused(channel: ChannelState, pending: PendingPublish[], error: string): void {
    this.ctx.logger.warn({ channel: channel.name, error }, 'publish batch refused');
    channel.nextSeq = Math.max(channel.record.lastSeq, channel.deliverable) + 1;
    for (const p of pending) this.sendAck(p.ackSubject, guidOfPubAck(p.pubAck()), error);
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
