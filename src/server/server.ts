// The NATS Streaming server: a NATS client (in-process or external, through a NatsConnector) that
// serves the STAN protocol subjects. Every change of streaming state is an op applied by the
// state machine of src/fsm (through a LocalWriter here, standalone); the handlers keep only the
// serving runtime. Construct, `await start()`, `await shutdown()`.
import type { Logger } from 'pino';
import type { NatsConnection, NatsConnector, NatsSubscription } from '../transport/nats/connection.js';
import type { RecoveredState, Store, StoreClock } from '../store/types.js';
import { TstanError } from '../util/errors.js';
import { ReplicatedClock } from '../fsm/context.js';
import { StanFsm } from '../fsm/stan-fsm.js';
import { stateFromRecovered } from '../fsm/recovered.js';
import { InDoubtError, LocalWriter } from '../fsm/writer.js';
import { StanCodec, ackedSequence } from './protocol.js';
import { stanServerOptions, type StanServerOptions } from './options.js';
import { subjectsAfterRecovery, stanSubjects, type StanSubjects } from './subjects.js';
import { Delivery } from './delivery.js';
import { ClientRegistry } from './clients.js';
import { stopExpiry, stopInactivity } from './channels.js';
import { channelSubs } from './state.js';
import { Publisher } from './publish.js';
import { handleSubscribe } from './subscribe.js';
import { handleUnsubscribe } from './unsubscribe.js';
import { StanErrors } from './errors.js';
import { probeForOtherServer } from './probe.js';
import { rebuildRuntime } from './runtime.js';
import { DeliveryProgress } from './progress.js';
import { systemScheduler, type Scheduler } from './scheduler.js';
import type { ServerContext } from './context.js';
import type { StreamingMonitorView } from '../monitor/streaming/view.js';
import { StanMonitorView } from './monitor-view.js';
import { MetricsBinding } from './metrics-binding.js';
import type { StreamingMetrics } from '../monitor/metrics.js';

/**
 * Opens the store the server runs on. The state machine hands it a clock that shows the time of
 * the ops applied, and expires messages by age itself (through ops), never on a store timer.
 */
export type StoreOpener = (settings: { readonly clock: StoreClock; readonly ageExpiry: 'caller' }) => Promise<Store>;

export class StanServer {
  readonly options: StanServerOptions;
  private subjectsInUse: StanSubjects;
  private ctx: ServerContext | undefined;
  private clientRegistry: ClientRegistry | undefined;
  private publisher: Publisher | undefined;
  private readonly protocolSubs: NatsSubscription[] = [];
  private ackSub: NatsSubscription | undefined;
  private readonly recoveredAckSubs: NatsSubscription[] = [];
  /** Subscribe, unsubscribe and close requests run one after the other, in arrival order. */
  private control: Promise<void> = Promise.resolve();
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  private readonly codec: StanCodec;
  private readonly clock = new ReplicatedClock();
  private storeInUse: Store | undefined;
  private writer: LocalWriter | undefined;
  private readonly fatalListeners: Array<(error: Error) => void> = [];

  constructor(
    private readonly connector: NatsConnector,
    private readonly openStore: StoreOpener,
    options: Partial<StanServerOptions>,
    private readonly logger: Logger,
    private readonly scheduler: Scheduler = systemScheduler,
  ) {
    this.options = stanServerOptions(options);
    this.subjectsInUse = stanSubjects(this.options.clusterId, this.options.discoverPrefix);
    this.codec = new StanCodec();
  }

  /** The store, once start() opened it. */
  get store(): Store {
    if (this.storeInUse === undefined) throw new TstanError('STAN_STATE', 'the store is opened by start()');
    return this.storeInUse;
  }

  /** `listener` hears once when the state can no longer be written (a failed fsync): the node must stop. */
  onFatal(listener: (error: Error) => void): void {
    this.fatalListeners.push(listener);
  }

  /** The protocol subjects served: computed from the cluster ID, or recovered from the store. */
  get subjects(): StanSubjects {
    return this.subjectsInUse;
  }

  get context(): ServerContext | undefined {
    return this.ctx;
  }

  private view: StanMonitorView | undefined;
  private metricsBinding: MetricsBinding | undefined;

  /** Feeds Prometheus metrics (one registry per server) from this server; call after start(). */
  attachMetrics(metrics: StreamingMetrics): void {
    const ctx = this.ctx;
    if (ctx === undefined) throw new TstanError('STAN_STATE', 'metrics can be attached once the server has started');
    this.metricsBinding?.stop();
    const binding = new MetricsBinding(ctx, metrics);
    this.metricsBinding = binding;
    ctx.observeStoreWrite = (startNs, endNs) => binding.observeStoreWrite(startNs, endNs);
  }

  /** The read-only view the /streaming/*z handlers serve. */
  monitorView(): StreamingMonitorView {
    this.view ??= new StanMonitorView(this);
    return this.view;
  }

  get isRunning(): boolean {
    return this.state === 'running';
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new TstanError('STAN_STATE', `server cannot start when ${this.state}`);
    this.state = 'starting';
    const cid = this.options.clusterId;
    const connections: NatsConnection[] = [];
    try {
      for (const role of ['general', 'send', 'hb']) connections.push(await this.connector.connect(`_NSS-${cid}-${role}`));
      const [general, send, hb] = connections as [NatsConnection, NatsConnection, NatsConnection];
      if (!this.options.skipServerProbe) {
        await probeForOtherServer(hb, this.codec, this.subjects, cid, this.options.serverProbeMs);
      }
      this.storeInUse = await this.openStore({ clock: this.clock, ageExpiry: 'caller' });
      const recovered = await this.initStore();
      const fsm = new StanFsm({
        store: this.store,
        clock: this.clock,
        persistRecords: this.store.capabilities.persistent,
        logger: this.logger.child({ component: 'fsm' }),
        ...(recovered !== undefined ? { state: stateFromRecovered(this.store, recovered) } : {}),
      });
      this.writer = new LocalWriter(fsm, (error) => this.fatal(error));
      this.ctx = this.createContext(fsm, this.writer, general, send, hb);
      for (const inbox of rebuildRuntime(this.ctx, this.clientRegistry!)) this.subscribeAckInbox(this.ctx, inbox);
      this.subscribeProtocol(this.ctx);
      await new Promise<void>((resolve, reject) => general.flush((error) => (error ? reject(error) : resolve())));
    } catch (error) {
      this.state = 'stopped';
      for (const sub of this.protocolSubs) sub.unsubscribe();
      for (const connection of connections) await connection.close().catch(() => undefined);
      await this.storeInUse?.close().catch(() => undefined);
      throw error;
    }
    this.state = 'running';
    this.logger.info({ clusterId: cid, store: this.store.type }, 'streaming server ready');
  }

  /** Recovers a persistent store's state (restored once the context exists) and records our subjects. */
  private async initStore(): Promise<RecoveredState | undefined> {
    const recovered = await this.store.recover();
    if (recovered !== undefined && recovered.info.clusterId !== '' && recovered.info.clusterId !== this.options.clusterId) {
      throw new TstanError(
        'STAN_CLUSTER_ID_MISMATCH',
        `cluster ID "${this.options.clusterId}" does not match recovered value of "${recovered.info.clusterId}"`,
      );
    }
    if (recovered !== undefined) this.subjectsInUse = subjectsAfterRecovery(this.subjectsInUse, recovered.info);
    const s = this.subjects;
    await this.store.init({
      clusterId: this.options.clusterId,
      discovery: s.discover,
      publish: s.pubPrefix,
      subscribe: s.subRequests,
      unsubscribe: s.unsubRequests,
      close: s.closeRequests,
      subClose: s.subCloseRequests,
      acksSubs: s.acksSubs,
      nodeId: '',
    });
    return recovered;
  }

  /** An ack inbox handed out by an earlier run, outside this run's wildcard. */
  private subscribeAckInbox(ctx: ServerContext, inbox: string): void {
    this.recoveredAckSubs.push(ctx.general.subscribe(inbox, (subject, _reply, payload) => {
      try {
        this.onAck(ctx, subject, payload);
      } catch (error) {
        this.logger.error({ err: error }, 'ack handler failed');
      }
    }));
  }

  /**
   * The state can no longer be written: nothing more is acknowledged or delivered (the protocol
   * subscriptions go at once), and the node is told to stop.
   */
  private fatal(error: Error): void {
    this.logger.error({ err: error }, 'the store failed: the streaming server stops serving');
    for (const sub of this.protocolSubs) sub.unsubscribe();
    this.protocolSubs.length = 0;
    this.ackSub?.unsubscribe();
    for (const sub of this.recoveredAckSubs) sub.unsubscribe();
    this.clientRegistry?.stop();
    for (const listener of this.fatalListeners) listener(error);
  }

  private createContext(fsm: StanFsm, writer: LocalWriter, general: NatsConnection, send: NatsConnection, hb: NatsConnection): ServerContext {
    const progress = new DeliveryProgress(writer, this.scheduler, this.logger);
    const ctx: ServerContext = {
      options: this.options,
      logger: this.logger,
      store: this.store,
      fsm,
      writer,
      scheduler: this.scheduler,
      progress,
      codec: this.codec,
      subjects: this.subjects,
      general,
      send,
      hb,
      delivery: undefined as unknown as Delivery,
      clients: new Map(),
      channels: new Map(),
      creatingChannels: new Map(),
      subsByAckInbox: new Map(),
      counters: { msgsIn: 0, bytesIn: 0, msgsOut: 0, bytesOut: 0, redeliveries: 0 },
      ackPrefix: general.newInbox() + '.',
      nextAckInbox: 1,
      observeStoreWrite: undefined,
      startedMs: this.scheduler.nowMs(),
      onFatal: (error) => this.fatal(error),
    };
    const registry = new ClientRegistry(ctx);
    (ctx as { delivery: Delivery }).delivery = new Delivery(send, this.options.deliveryBatchMax, {
      isClientHealthy: (clientId) => registry.isHealthy(clientId),
      onDelivered: (_sub, bytes, redelivered) => {
        ctx.counters.msgsOut++;
        ctx.counters.bytesOut += bytes;
        if (redelivered) ctx.counters.redeliveries++;
      },
    }, this.logger, progress, this.scheduler);
    this.clientRegistry = registry;
    this.publisher = new Publisher(ctx, registry);
    return ctx;
  }

  private subscribeProtocol(ctx: ServerContext): void {
    const g = ctx.general;
    const s = this.subjects;
    const registry = this.clientRegistry!;
    const publisher = this.publisher!;
    // A bug in one handler must not take the server down: it is logged and the message dropped.
    const guard = (name: string, handle: (subject: string, reply: string | undefined, payload: Uint8Array) => void) =>
      (subject: string, reply: string | undefined, payload: Uint8Array): void => {
        try {
          handle(subject, reply, payload);
        } catch (error) {
          this.logger.error({ err: error, handler: name }, 'protocol handler failed');
        }
      };
    this.protocolSubs.push(
      g.subscribe(s.discover, guard('connect', (_subject, reply, payload) => this.onConnect(ctx, registry, reply, payload))),
      g.subscribe(s.pings, guard('ping', (_subject, reply, payload) => this.onPing(ctx, registry, reply, payload))),
      g.subscribe(`${s.pubPrefix}.>`, guard('publish', (_subject, reply, payload) => publisher.onPublish(reply, payload))),
      g.subscribe(s.subRequests, guard('subscribe', (_subject, reply, payload) => this.onSubscribe(ctx, reply, payload))),
      g.subscribe(s.unsubRequests, guard('unsubscribe', (_subject, reply, payload) => this.onUnsubscribe(ctx, reply, payload, true))),
      g.subscribe(s.subCloseRequests, guard('subclose', (_subject, reply, payload) => this.onUnsubscribe(ctx, reply, payload, false))),
      g.subscribe(s.closeRequests, guard('close', (_subject, reply, payload) => this.onClose(ctx, registry, reply, payload))),
    );
    this.ackSub = g.subscribe(`${ctx.ackPrefix}>`, guard('ack', (subject, _reply, payload) => this.onAck(ctx, subject, payload)));
  }

  private onConnect(ctx: ServerContext, registry: ClientRegistry, reply: string | undefined, payload: Uint8Array): void {
    if (reply === undefined) return;
    let req;
    try {
      req = ctx.codec.decodeConnectRequest(payload);
    } catch {
      ctx.send.publish(reply, ctx.codec.encodeConnectResponse({ error: StanErrors.invalidConnectRequest }));
      return;
    }
    const { clientID, protocol, pingInterval, pingMaxOut } = req;
    registry.connect(req, (error) => {
      if (error !== '') {
        ctx.send.publish(reply, ctx.codec.encodeConnectResponse({ error }));
        return;
      }
      const s = this.subjects;
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
      this.logger.debug({ clientId: clientID }, 'connect answered');
    });
  }

  private onPing(ctx: ServerContext, registry: ClientRegistry, reply: string | undefined, payload: Uint8Array): void {
    if (reply === undefined) return;
    let connId: Uint8Array;
    try {
      connId = ctx.codec.decodePing(payload).connID;
    } catch {
      return;
    }
    if (connId.length === 0) return;
    ctx.send.publish(reply, ctx.codec.encodePingResponse(registry.handlePing(connId)));
  }

  private enqueue(step: () => Promise<void> | void): void {
    this.control = this.control.then(step).catch((error: unknown) => {
      this.logger.error({ err: error }, 'control request failed');
    });
  }

  private onSubscribe(ctx: ServerContext, reply: string | undefined, payload: Uint8Array): void {
    if (reply === undefined) return;
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

  private onUnsubscribe(ctx: ServerContext, reply: string | undefined, payload: Uint8Array, unsubscribe: boolean): void {
    let req;
    try {
      req = ctx.codec.decodeUnsubscribeRequest(payload);
    } catch {
      if (reply !== undefined) {
        ctx.send.publish(reply, ctx.codec.encodeSubscriptionResponse('', StanErrors.invalidUnsubscribeRequest));
      }
      return;
    }
    const request = req;
    this.enqueue(async () => {
      let error: string;
      try {
        error = await handleUnsubscribe(ctx, request, unsubscribe);
      } catch (failure) {
        if (failure instanceof InDoubtError) return;
        error = failure instanceof Error ? failure.message : String(failure);
      }
      if (reply !== undefined) ctx.send.publish(reply, ctx.codec.encodeSubscriptionResponse('', error));
    });
  }

  private onClose(ctx: ServerContext, registry: ClientRegistry, reply: string | undefined, payload: Uint8Array): void {
    let clientId: string;
    try {
      clientId = ctx.codec.decodeCloseRequest(payload).clientID;
    } catch {
      if (reply !== undefined) ctx.send.publish(reply, ctx.codec.encodeCloseResponse(StanErrors.invalidCloseRequest));
      return;
    }
    this.enqueue(async () => {
      let error: string;
      try {
        error = await registry.handleClose(clientId);
      } catch (failure) {
        if (failure instanceof InDoubtError) return;
        error = failure instanceof Error ? failure.message : String(failure);
      }
      if (reply !== undefined) ctx.send.publish(reply, ctx.codec.encodeCloseResponse(error));
    });
  }

  private onAck(ctx: ServerContext, subject: string, payload: Uint8Array): void {
    const sub = ctx.subsByAckInbox.get(subject);
    if (sub === undefined) return;
    const channel = sub.channel;
    const sequence = ackedSequence(payload, channel.nameBytes, channel.name);
    if (sequence < 0) return;
    ctx.delivery.ack(sub, sequence);
  }

  /**
   * Graceful stop: no new requests are taken, accepted publishes are stored and answered, queued
   * control requests finish, then timers stop, connections close and the store is closed.
   */
  async shutdown(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    const ctx = this.ctx;
    for (const sub of this.protocolSubs) sub.unsubscribe();
    this.protocolSubs.length = 0;
    if (wasRunning && ctx !== undefined) {
      await this.publisher?.drain();
      await this.control;
      this.ackSub?.unsubscribe();
      for (const sub of this.recoveredAckSubs) sub.unsubscribe();
      this.clientRegistry?.stop();
      this.metricsBinding?.stop();
      for (const channel of ctx.channels.values()) {
        stopInactivity(ctx, channel);
        stopExpiry(ctx, channel);
        for (const sub of channelSubs(channel)) ctx.delivery.stopAckTimer(sub);
      }
      // Positions noted this turn are stored too, so that a restart redelivers as little as it can.
      ctx.progress.flush();
      await ctx.writer.submit([]).catch(() => undefined);
      await new Promise<void>((resolve) => ctx.send.flush(() => resolve()));
      for (const connection of [ctx.general, ctx.send, ctx.hb]) await connection.close().catch(() => undefined);
    }
    await this.storeInUse?.close().catch((error: unknown) => this.logger.error({ err: error }, 'closing the store failed'));
    this.state = 'stopped';
    this.logger.info('streaming server stopped');
  }
}
