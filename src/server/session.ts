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
import type { Scheduler, TimerHandle } from './scheduler.js';
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

/** Requests parked during a handover, at most (beyond, they are dropped and the client retries). */
const PARKED_MAX = 100_000;

type Handler = (subject: string, reply: string | undefined, payload: Uint8Array) => void;
type RequestHandler = readonly [subject: string, name: string, handle: Handler];

interface ParkedRequest {
  readonly subject: string;
  readonly reply: string | undefined;
  readonly payload: Uint8Array;
}

/**
 * Taking over from a leader that hands over (see ServingSession.start). Its requests arrive on
 * `<subject>.r.<original subject>` in the order it received them, then `<subject>.done`.
 */
export interface TakeOver {
  readonly subject: string;
  /** Without the old leader's `done` by then (it died), requests held so far are served anyway. */
  readonly waitMs: number;
}

/** A request as it was received: subject, reply and payload bytes (the same request seen twice). */
function requestKey(subject: string, reply: string | undefined, payload: Uint8Array): string {
  return `${subject}\u0000${reply ?? ''}\u0000${Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('latin1')}`;
}

interface Holding {
  readonly held: ParkedRequest[];
  /** Requests the old leader passed on, by key: their copies in `held` are not served twice. */
  readonly passedOn: Map<string, number>;
  readonly timer: TimerHandle;
  readonly ended: Promise<void>;
  readonly end: () => void;
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
  /** Taking over from a leader that hands over: requests received directly wait for its own. */
  private holding: Holding | undefined;
  private takeOverSub: NatsSubscription | undefined;
  private handlersInUse: RequestHandler[] | undefined;
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

  /**
   * Rebuilds the runtime from the records and starts answering clients.
   *
   * With `takeOver`, a leader that handed over is still taking requests: both nodes see every
   * request until it stops. The requests it received (parked, unanswered) come first, in its order;
   * those received here wait and are served after them, but for the ones it passed on as well. A
   * client's requests thus keep their order, whichever node saw them, and none is lost between
   * the two subscriptions.
   */
  async start(takeOver?: TakeOver): Promise<void> {
    const ctx = this.ctx;
    const general = ctx.general;
    for (const inbox of rebuildRuntime(ctx, this.registry)) {
      if (!inbox.startsWith(this.settings.ackCoverPrefix)) this.ackSubs.push(general.subscribe(inbox, this.guard('ack', (subject, _r, payload) => this.onAck(subject, payload), false)));
    }
    if (takeOver !== undefined) this.holdFor(takeOver);
    this.subscribeProtocol();
    this.state = 'serving';
    await new Promise<void>((resolve, reject) => general.flush((error) => (error ? reject(error) : resolve())));
  }

  private holdFor(takeOver: TakeOver): void {
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    const timer = this.ctx.scheduler.setTimeout(() => {
      this.ctx.logger.warn({ waitMs: takeOver.waitMs }, 'the leader handing over did not pass its requests on in time: serving without them');
      this.endTakeOver();
    }, takeOver.waitMs);
    this.holding = { held: [], passedOn: new Map(), timer, ended, end };
    const prefix = `${takeOver.subject}.r.`;
    this.takeOverSub = this.ctx.general.subscribe(`${takeOver.subject}.>`, (subject, reply, payload) => {
      const holding = this.holding;
      // Too late (served without them) or a stray: unanswered, the clients retry.
      if (holding === undefined || this.state === 'ended') return;
      if (subject.startsWith(prefix)) {
        const original = subject.slice(prefix.length);
        const key = requestKey(original, reply, payload);
        holding.passedOn.set(key, (holding.passedOn.get(key) ?? 0) + 1);
        this.dispatch(original, reply, payload);
      } else if (subject === `${takeOver.subject}.done`) {
        this.endTakeOver();
      }
    });
  }

  /**
   * Serves the requests held while taking over, but for those the old leader passed on: on its
   * `done`, at the end of the wait, or when it says it gave up.
   */
  endTakeOver(): void {
    const holding = this.stopHolding();
    if (holding === undefined) return;
    let served = 0;
    for (const request of holding.held) {
      const key = requestKey(request.subject, request.reply, request.payload);
      const seen = holding.passedOn.get(key) ?? 0;
      if (seen > 0) {
        holding.passedOn.set(key, seen - 1);
        continue;
      }
      served++;
      this.dispatch(request.subject, request.reply, request.payload);
    }
    this.ctx.logger.debug({ held: holding.held.length, served }, 'took over from the leader handing over');
  }

  /** Ends the hold (timer, subscription, waiters) and returns it, or undefined without one. */
  private stopHolding(): Holding | undefined {
    const holding = this.holding;
    if (holding === undefined) return undefined;
    this.holding = undefined;
    this.ctx.scheduler.clearTimeout(holding.timer);
    this.takeOverSub?.unsubscribe();
    this.takeOverSub = undefined;
    holding.end();
    return holding;
  }

  /**
   * A bug in one handler must not take the server down: it is logged and the message dropped.
   * While the session hands over to another leader, requests are parked instead (drain), and
   * while it takes over from one, they are held (start).
   */
  private guard(name: string, handle: Handler, parkable = true) {
    return (subject: string, reply: string | undefined, payload: Uint8Array): void => {
      if (parkable && this.parked !== undefined) {
        this.park(this.parked, subject, reply, payload);
        return;
      }
      if (!parkable && this.parkedAcks !== undefined) {
        this.park(this.parkedAcks, subject, reply, payload);
        return;
      }
      // Pings carry no order and are answered at once; acks are never held.
      if (parkable && name !== 'ping' && this.holding !== undefined) {
        this.park(this.holding.held, subject, reply, payload);
        return;
      }
      this.run(name, handle, subject, reply, payload);
    };
  }

  private run(name: string, handle: Handler, subject: string, reply: string | undefined, payload: Uint8Array): void {
    try {
      handle(subject, reply, payload);
    } catch (error) {
      this.ctx.logger.error({ err: error, handler: name }, 'protocol handler failed');
    }
  }

  /**
   * The protocol request handlers, by subject. Each node that serves subscribes on its own (no
   * queue group): two nodes serve at once only while one hands over to the other, and then the
   * old one answers nothing itself (see start and releaseParked).
   */
  private get requestHandlers(): readonly RequestHandler[] {
    const s = this.settings.subjects;
    return (this.handlersInUse ??= [
      [s.discover, 'connect', (_subject, reply, payload) => this.onConnect(reply, payload)],
      [s.pings, 'ping', (_subject, reply, payload) => this.onPing(reply, payload)],
      [`${s.pubPrefix}.>`, 'publish', (_subject, reply, payload) => this.publisher.onPublish(reply, payload)],
      [s.subRequests, 'subscribe', (_subject, reply, payload) => this.onSubscribe(reply, payload)],
      [s.unsubRequests, 'unsubscribe', (_subject, reply, payload) => this.onUnsubscribe(reply, payload, true)],
      [s.subCloseRequests, 'subclose', (_subject, reply, payload) => this.onUnsubscribe(reply, payload, false)],
      [s.closeRequests, 'close', (_subject, reply, payload) => this.onClose(reply, payload)],
    ]);
  }

  private subscribeProtocol(): void {
    const g = this.ctx.general;
    for (const [subject, name, handle] of this.requestHandlers) this.requestSubs.push(g.subscribe(subject, this.guard(name, handle)));
    this.ackSubs.push(g.subscribe(`${this.settings.ackCoverPrefix}>`, this.guard('ack', (subject, _reply, payload) => this.onAck(subject, payload), false)));
  }

  /** Serves a request passed on by the leader that handed over, as if it had arrived here. */
  private dispatch(subject: string, reply: string | undefined, payload: Uint8Array): void {
    const pubPrefix = `${this.settings.subjects.pubPrefix}.`;
    for (const [pattern, name, handle] of this.requestHandlers) {
      if (subject === pattern || (pattern.endsWith('.>') && subject.startsWith(pubPrefix))) {
        this.run(name, handle, subject, reply, payload);
        return;
      }
    }
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
    // Still taking over from the previous leader: its requests and the held ones come first.
    await this.holding?.ended;
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
   * After a drain with `handover`, once the next leader serves (and, with `to`, takes over on that
   * subject): stops taking requests, and once everything sent here before has arrived, passes the
   * parked ones on in the order they came, then `done`. The new leader serves them ahead of what
   * it received itself, so their clients are answered in order instead of timing out. Without a
   * node taking over they are dropped unanswered: the clients retry.
   */
  async releaseParked(to: string | undefined, waitForRepliesMs = 2_000): Promise<{ requests: number; acks: number }> {
    const general = this.ctx.general;
    this.unsubscribeRequests();
    this.unsubscribeAcks();
    // The server writes to this connection in order: past the flush, nothing routed here is left.
    await new Promise<void>((resolve) => general.flush(() => resolve()));
    const parked = this.parked ?? [];
    const acks = this.parkedAcks ?? [];
    this.parked = undefined;
    this.parkedAcks = undefined;
    for (const ack of acks) general.publish(ack.subject, ack.payload);
    if (to === undefined) {
      if (parked.length > 0) this.ctx.logger.warn({ requests: parked.length }, 'no node took over: requests received while handing over are dropped, their clients retry');
      await new Promise<void>((resolve) => general.flush(() => resolve()));
      this.close();
      return { requests: 0, acks: acks.length };
    }
    // The answers go to clients that may be connected to this node's own NATS server: it must
    // stay up until they have passed through, or the clients time out and publish again.
    const answered = this.watchReplies(parked);
    for (const request of parked) general.publish(`${to}.r.${request.subject}`, request.payload, request.reply);
    general.publish(`${to}.done`, new Uint8Array(0));
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
    this.stopHolding();
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
