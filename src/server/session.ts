// One period of serving clients: the standalone server's whole life, or one leadership of a
// cluster node. A session rebuilds the serving runtime from the replicated records, subscribes
// to the protocol subjects and answers from the results of the ops it submits. It ends in one of
// two ways: drained (graceful shutdown: accepted work is finished and answered) or abandoned
// (leadership lost, or the writer failed): then it stops at once, and whatever it still waits for
// never answers — a client hears nothing about an outcome that is in doubt.
import type { Logger } from 'pino';
import type { NatsConnection, NatsSubscription } from '../transport/nats/connection.js';
import type { Store } from '../store/types.js';
import type { StanFsm } from '../fsm/stan-fsm.js';
import type { OpResult, Op } from '../fsm/ops.js';
import { InDoubtError, routineWriteFailure, type StateWriter } from '../fsm/writer.js';
import { StanCodec, ackedSequence } from './protocol.js';
import type { StanServerOptions } from './options.js';
import type { StanSubjects } from './subjects.js';
import { Delivery } from './delivery.js';
import { ClientRegistry } from './clients.js';
import { Publisher } from './publish.js';
import { handleSubscribe } from './subscribe.js';
import { handleUnsubscribe } from './unsubscribe.js';
import { StanErrors } from './errors.js';
import { rebuildRuntime } from './runtime.js';
import { DeliveryProgress } from './progress.js';
import type { Scheduler } from './scheduler.js';
import type { ServerContext } from './context.js';
import { stopExpiry, stopInactivity } from './channels.js';
import { channelSubs } from './state.js';

export interface SessionConnections {
  /** Inbound protocol traffic and acks, one connection so that a client's order is kept. */
  readonly general: NatsConnection;
  /** Deliveries and PubAcks. */
  readonly send: NatsConnection;
  /** Heartbeats and probes. */
  readonly hb: NatsConnection;
}

export interface SessionSettings {
  readonly options: StanServerOptions;
  readonly logger: Logger;
  readonly scheduler: Scheduler;
  readonly codec: StanCodec;
  readonly subjects: StanSubjects;
  readonly store: Store;
  readonly fsm: StanFsm;
  readonly writer: StateWriter;
  readonly connections: SessionConnections;
  /** Prefix of the ack inboxes this session hands out. */
  readonly ackPrefix: string;
  /** One wildcard subscription takes the acks of every inbox under this prefix. */
  readonly ackCoverPrefix: string;
  /** The writer failed: the owner must stop the node. */
  readonly onFatal: (error: Error) => void;
}

/** Forwards publishes until the session ends; afterwards nothing more leaves through it. */
class GatedConnection implements NatsConnection {
  open = true;
  constructor(private readonly inner: NatsConnection) {}
  get name(): string {
    return this.inner.name;
  }
  get isClosed(): boolean {
    return !this.open || this.inner.isClosed;
  }
  get maxPayloadBytes(): number {
    return this.inner.maxPayloadBytes;
  }
  hasInterest(subject: string): boolean | undefined {
    return this.inner.hasInterest(subject);
  }
  publish(subject: string, payload: Uint8Array, reply?: string): void {
    if (this.open) this.inner.publish(subject, payload, reply);
  }
  subscribe(...args: Parameters<NatsConnection['subscribe']>): NatsSubscription {
    return this.inner.subscribe(...args);
  }
  request(...args: Parameters<NatsConnection['request']>): void {
    if (this.open) this.inner.request(...args);
  }
  newInbox(): string {
    return this.inner.newInbox();
  }
  flush(callback: (error: Error | null) => void): void {
    this.inner.flush(callback);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The session's view of the writer: once the session is abandoned, nothing it waits for settles. */
class SessionWriter implements StateWriter {
  active = true;
  constructor(private readonly inner: StateWriter) {}
  submit(ops: readonly Op[]): Promise<OpResult[]> {
    if (!this.active) return new Promise<OpResult[]>(() => undefined);
    return this.inner.submit(ops).then(
      (results) => (this.active ? results : new Promise<OpResult[]>(() => undefined)),
      (error: unknown) => (this.active ? Promise.reject(error as Error) : new Promise<OpResult[]>(() => undefined)),
    );
  }
}

/**
 * The protocol request subjects are taken in one queue group: while a leader hands over, the old
 * and the new one both subscribe for a moment, and each request reaches exactly one of them.
 */
const SERVING_QUEUE = 'tstan-serving';
/** Requests parked during a handover, at most (beyond, they are dropped and the client retries). */
const PARKED_MAX = 100_000;

interface ParkedRequest {
  readonly subject: string;
  readonly reply: string | undefined;
  readonly payload: Uint8Array;
}

export class ServingSession {
  readonly ctx: ServerContext;
  private readonly registry: ClientRegistry;
  private readonly publisher: Publisher;
  private readonly writer: SessionWriter;
  private readonly gated: GatedConnection[];
  /** Protocol requests (connect, publish, subscribe...): the first thing a drain stops. */
  private readonly requestSubs: NatsSubscription[] = [];
  /** Acks: taken until the very end of a drain. */
  private readonly ackSubs: NatsSubscription[] = [];
  /** Subscribe, unsubscribe and close requests run one after the other, in arrival order. */
  private control: Promise<void> = Promise.resolve();
  private state: 'new' | 'serving' | 'ended' = 'new';
  /** Requests received while handing over, to pass on to the next leader; undefined otherwise. */
  private parked: ParkedRequest[] | undefined;
  /**
   * Acks received while handing over after the last positions were written: passed on to the
   * next leader too, or it would redeliver what the subscriber has acknowledged.
   */
  private parkedAcks: ParkedRequest[] | undefined;

  constructor(private readonly settings: SessionSettings) {
    const { connections, scheduler, logger } = settings;
    const send = new GatedConnection(connections.send);
    const hb = new GatedConnection(connections.hb);
    this.gated = [send, hb];
    this.writer = new SessionWriter(settings.writer);
    const progress = new DeliveryProgress(this.writer, scheduler, logger);
    const ctx: ServerContext = {
      options: settings.options,
      logger,
      store: settings.store,
      fsm: settings.fsm,
      writer: this.writer,
      scheduler,
      progress,
      codec: settings.codec,
      subjects: settings.subjects,
      general: connections.general,
      send,
      hb,
      delivery: undefined as unknown as Delivery,
      clients: new Map(),
      channels: new Map(),
      creatingChannels: new Map(),
      subsByAckInbox: new Map(),
      counters: { msgsIn: 0, bytesIn: 0, msgsOut: 0, bytesOut: 0, redeliveries: 0 },
      ackPrefix: settings.ackPrefix,
      nextAckInbox: 1,
      observeStoreWrite: undefined,
      startedMs: scheduler.nowMs(),
      onFatal: settings.onFatal,
    };
    const registry = new ClientRegistry(ctx);
    const onDelivered = (_sub: unknown, bytes: number, redelivered: boolean): void => {
      ctx.counters.msgsOut++;
      ctx.counters.bytesOut += bytes;
      if (redelivered) ctx.counters.redeliveries++;
    };
    const hooks = { isClientHealthy: (clientId: string) => registry.isHealthy(clientId), onDelivered };
    (ctx as { delivery: Delivery }).delivery = new Delivery(send, settings.options.deliveryBatchMax, hooks, logger, progress, scheduler);
    this.ctx = ctx;
    this.registry = registry;
    this.publisher = new Publisher(ctx, registry);
  }

  get isServing(): boolean {
    return this.state === 'serving';
  }

  /** Rebuilds the runtime from the records and starts answering clients. */
  async start(): Promise<void> {
    const ctx = this.ctx;
    const general = ctx.general;
    for (const inbox of rebuildRuntime(ctx, this.registry)) {
      if (!inbox.startsWith(this.settings.ackCoverPrefix)) this.ackSubs.push(general.subscribe(inbox, this.guard('ack', (subject, _r, payload) => this.onAck(subject, payload), false)));
    }
    this.subscribeProtocol();
    this.state = 'serving';
    await new Promise<void>((resolve, reject) => general.flush((error) => (error ? reject(error) : resolve())));
  }

  /**
   * A bug in one handler must not take the server down: it is logged and the message dropped.
   * While the session hands over to another leader, requests are parked instead (parkRequests).
   */
  private guard(name: string, handle: (subject: string, reply: string | undefined, payload: Uint8Array) => void, parkable = true) {
    return (subject: string, reply: string | undefined, payload: Uint8Array): void => {
      if (parkable && this.parked !== undefined) {
        this.park(this.parked, subject, reply, payload);
        return;
      }
      if (!parkable && this.parkedAcks !== undefined) {
        this.park(this.parkedAcks, subject, reply, payload);
        return;
      }
      try {
        handle(subject, reply, payload);
      } catch (error) {
        this.ctx.logger.error({ err: error, handler: name }, 'protocol handler failed');
      }
    };
  }

  private subscribeProtocol(): void {
    const g = this.ctx.general;
    const s = this.settings.subjects;
    this.requestSubs.push(
      g.subscribe(s.discover, this.guard('connect', (_subject, reply, payload) => this.onConnect(reply, payload)), SERVING_QUEUE),
      g.subscribe(s.pings, this.guard('ping', (_subject, reply, payload) => this.onPing(reply, payload)), SERVING_QUEUE),
      g.subscribe(`${s.pubPrefix}.>`, this.guard('publish', (_subject, reply, payload) => this.publisher.onPublish(reply, payload)), SERVING_QUEUE),
      g.subscribe(s.subRequests, this.guard('subscribe', (_subject, reply, payload) => this.onSubscribe(reply, payload)), SERVING_QUEUE),
      g.subscribe(s.unsubRequests, this.guard('unsubscribe', (_subject, reply, payload) => this.onUnsubscribe(reply, payload, true)), SERVING_QUEUE),
      g.subscribe(s.subCloseRequests, this.guard('subclose', (_subject, reply, payload) => this.onUnsubscribe(reply, payload, false)), SERVING_QUEUE),
      g.subscribe(s.closeRequests, this.guard('close', (_subject, reply, payload) => this.onClose(reply, payload)), SERVING_QUEUE),
    );
    this.ackSubs.push(g.subscribe(`${this.settings.ackCoverPrefix}>`, this.guard('ack', (subject, _reply, payload) => this.onAck(subject, payload), false)));
  }

  private onConnect(reply: string | undefined, payload: Uint8Array): void {
    if (reply === undefined) return;
    const ctx = this.ctx;
    let req;
    try {
      req = ctx.codec.decodeConnectRequest(payload);
    } catch {
      ctx.send.publish(reply, ctx.codec.encodeConnectResponse({ error: StanErrors.invalidConnectRequest }));
      return;
    }
    const { clientID, protocol, pingInterval, pingMaxOut } = req;
    this.registry.connect(req, (error) => {
      if (error !== '') {
        ctx.send.publish(reply, ctx.codec.encodeConnectResponse({ error }));
        return;
      }
      const s = this.settings.subjects;
      ctx.send.publish(
        reply,
        ctx.codec.encodeConnectResponse({
          pubPrefix: s.pubPrefix,
          subRequests: s.subRequests,
          unsubRequests: s.unsubRequests,
          closeRequests: s.closeRequests,
          subCloseRequests: s.subCloseRequests,
          protocol: 1,
          ...(protocol >= 1 ? { pingRequests: s.pings, pingInterval, pingMaxOut } : {}),
        }),
      );
      ctx.logger.debug({ clientId: clientID }, 'connect answered');
    });
  }

  private onPing(reply: string | undefined, payload: Uint8Array): void {
    if (reply === undefined) return;
    const ctx = this.ctx;
    let connId: Uint8Array;
    try {
      connId = ctx.codec.decodePing(payload).connID;
    } catch {
      return;
    }
    if (connId.length === 0) return;
    ctx.send.publish(reply, ctx.codec.encodePingResponse(this.registry.handlePing(connId)));
  }

  private enqueue(step: () => Promise<void> | void): void {
    this.control = this.control.then(step).catch((error: unknown) => {
      if (routineWriteFailure(error)) this.ctx.logger.debug({ err: error }, 'control request not carried out');
      else this.ctx.logger.error({ err: error }, 'control request failed');
    });
  }

  private onSubscribe(reply: string | undefined, payload: Uint8Array): void {
    if (reply === undefined) return;
    const ctx = this.ctx;
    let req;
    try {
      req = ctx.codec.decodeSubscriptionRequest(payload);
    } catch {
      ctx.send.publish(reply, ctx.codec.encodeSubscriptionResponse('', StanErrors.invalidSubscriptionRequest));
      return;
    }
    const request = req;
    this.enqueue(() =>
      handleSubscribe(ctx, request, (ackInbox, error) => {
        ctx.send.publish(reply, ctx.codec.encodeSubscriptionResponse(ackInbox, error));
      }),
    );
  }

  /** Runs a request whose answer is an error text ('' on success); nothing is answered in doubt. */
  private answerLater(work: () => Promise<string>, answer: (error: string) => void): void {
    this.enqueue(async () => {
      let error: string;
      try {
        error = await work();
      } catch (failure) {
        if (failure instanceof InDoubtError) return;
        error = failure instanceof Error ? failure.message : String(failure);
      }
      answer(error);
    });
  }

  private onUnsubscribe(reply: string | undefined, payload: Uint8Array, remove: boolean): void {
    const ctx = this.ctx;
    let req;
    try {
      req = ctx.codec.decodeUnsubscribeRequest(payload);
    } catch {
      if (reply !== undefined) ctx.send.publish(reply, ctx.codec.encodeSubscriptionResponse('', StanErrors.invalidUnsubscribeRequest));
      return;
    }
    const request = req;
    this.answerLater(
      () => handleUnsubscribe(ctx, request, remove),
      (error) => {
        if (reply !== undefined) ctx.send.publish(reply, ctx.codec.encodeSubscriptionResponse('', error));
      },
    );
  }

  private onClose(reply: string | undefined, payload: Uint8Array): void {
    const ctx = this.ctx;
    let clientId: string;
    try {
      clientId = ctx.codec.decodeCloseRequest(payload).clientID;
    } catch {
      if (reply !== undefined) ctx.send.publish(reply, ctx.codec.encodeCloseResponse(StanErrors.invalidCloseRequest));
      return;
    }
    this.answerLater(
      () => this.registry.handleClose(clientId),
      (error) => {
        if (reply !== undefined) ctx.send.publish(reply, ctx.codec.encodeCloseResponse(error));
      },
    );
  }

  private onAck(subject: string, payload: Uint8Array): void {
    const ctx = this.ctx;
    const sub = ctx.subsByAckInbox.get(subject);
    if (sub === undefined) return;
    const channel = sub.channel;
    const sequence = ackedSequence(payload, channel.nameBytes, channel.name);
    if (sequence < 0) return;
    ctx.delivery.ack(sub, sequence);
  }

  private stopRuntime(): void {
    const ctx = this.ctx;
    this.registry.stop();
    for (const channel of ctx.channels.values()) {
      stopInactivity(ctx, channel);
      stopExpiry(ctx, channel);
      for (const sub of channelSubs(channel)) ctx.delivery.stopAckTimer(sub);
    }
  }

  private unsubscribeRequests(): void {
    for (const sub of this.requestSubs) sub.unsubscribe();
    this.requestSubs.length = 0;
  }

  private unsubscribeAcks(): void {
    for (const sub of this.ackSubs) sub.unsubscribe();
    this.ackSubs.length = 0;
  }

  private park(parked: ParkedRequest[], subject: string, reply: string | undefined, payload: Uint8Array): void {
    if (parked.length >= PARKED_MAX) return;
    // The payload is a view of a buffer the connection reuses.
    parked.push({ subject, reply, payload: Uint8Array.prototype.slice.call(payload) });
  }

  /**
   * Graceful end: no new requests are taken (with `handover`, they are parked for the next
   * leader instead), accepted publishes are stored and answered, queued control requests finish,
   * positions noted so far are written, then the runtime stops.
   */
  async drain(options: { handover?: boolean } = {}): Promise<void> {
    if (this.state !== 'serving') return;
    this.state = 'ended';
    const ctx = this.ctx;
    // Acks keep flowing until the end: what is acknowledged now is not redelivered after it.
    if (options.handover === true) this.parked = [];
    else this.unsubscribeRequests();
    await this.publisher.drain();
    await this.control;
    ctx.delivery.holdNew();
    await this.awaitOutstandingAcks(this.settings.options.drainAckGraceMs);
    // Handing over, later acks are kept for the next leader; the positions written below cover
    // every ack taken before this line.
    if (options.handover === true) this.parkedAcks = [];
    else this.unsubscribeAcks();
    this.stopRuntime();
    // Positions noted this turn are stored too, so that a restart redelivers as little as it can.
    ctx.progress.flush();
    await this.writer.submit([]).catch(() => undefined);
    await new Promise<void>((resolve) => ctx.send.flush(() => resolve()));
    if (this.parked === undefined) this.close();
  }

  /**
   * After a drain with `handover`, once the next leader serves: stops taking requests and passes
   * the parked ones on, in order, with their reply subjects — their clients are answered by the
   * new leader instead of timing out.
   */
  async releaseParked(waitForRepliesMs = 2_000): Promise<{ requests: number; acks: number }> {
    const parked = this.parked ?? [];
    const acks = this.parkedAcks ?? [];
    this.parked = undefined;
    this.parkedAcks = undefined;
    this.unsubscribeRequests();
    this.unsubscribeAcks();
    const general = this.ctx.general;
    for (const ack of acks) general.publish(ack.subject, ack.payload);
    // The answers go to clients that may be connected to this node's own NATS server: it must
    // stay up until they have passed through, or the clients time out and publish again.
    const answered = this.watchReplies(parked);
    for (const request of parked) general.publish(request.subject, request.payload, request.reply);
    await new Promise<void>((resolve) => general.flush(() => resolve()));
    await answered(waitForRepliesMs);
    this.close();
    return { requests: parked.length, acks: acks.length };
  }

  /**
   * Counts the replies to `requests` (their reply subjects may be shared, as PubAck inboxes
   * are); the function returned resolves once each request had one, or after `waitMs`.
   */
  private watchReplies(requests: readonly ParkedRequest[]): (waitMs: number) => Promise<void> {
    const expected = new Map<string, number>();
    for (const { reply } of requests) if (reply !== undefined) expected.set(reply, (expected.get(reply) ?? 0) + 1);
    let missing = [...expected.values()].reduce((sum, n) => sum + n, 0);
    let done: (() => void) | undefined;
    const subscriptions = [...expected.keys()].map((reply) =>
      this.ctx.general.subscribe(reply, () => {
        const left = expected.get(reply) ?? 0;
        if (left === 0) return;
        expected.set(reply, left - 1);
        if (--missing === 0) done?.();
      }),
    );
    return async (waitMs) => {
      if (missing > 0) {
        await new Promise<void>((resolve) => {
          const timer = this.ctx.scheduler.setTimeout(resolve, waitMs);
          done = () => {
            this.ctx.scheduler.clearTimeout(timer);
            resolve();
          };
        });
      }
      for (const subscription of subscriptions) subscription.unsubscribe();
    };
  }

  /** Waits (bounded) until subscribers have acknowledged what was sent to them. */
  private async awaitOutstandingAcks(graceMs: number): Promise<void> {
    const deadline = this.ctx.scheduler.nowMs() + graceMs;
    const outstanding = (): number => {
      let count = 0;
      for (const channel of this.ctx.channels.values()) for (const sub of channelSubs(channel)) if (!sub.isClosed) count += sub.pending.size;
      return count;
    };
    while (outstanding() > 0 && this.ctx.scheduler.nowMs() < deadline) {
      await new Promise<void>((resolve) => this.ctx.scheduler.setTimeout(resolve, 10));
    }
  }

  /** Immediate end: nothing more leaves, nothing waited for is answered. */
  abandon(): void {
    this.parked = undefined;
    this.parkedAcks = undefined;
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.unsubscribeRequests();
    this.unsubscribeAcks();
    this.stopRuntime();
    this.close();
  }

  private close(): void {
    this.writer.active = false;
    for (const connection of this.gated) connection.open = false;
  }
}
