// The standalone NATS Streaming server: a NATS client (in-process or external, through a
// NatsConnector) that serves the STAN protocol subjects. Every change of streaming state is an op
// applied by the state machine of src/fsm through a LocalWriter (durable once fsynced); one
// ServingSession answers clients for the server's whole life. Construct, `await start()`,
// `await shutdown()`.
import type { Logger } from 'pino';
import type { NatsConnection, NatsConnector } from '../transport/nats/connection.js';
import type { RecoveredState, Store, StoreClock } from '../store/types.js';
import { TstanError } from '../util/errors.js';
import { ReplicatedClock } from '../fsm/context.js';
import { StanFsm } from '../fsm/stan-fsm.js';
import type { StreamingState } from '../fsm/records.js';
import { stateFromRecovered } from '../fsm/recovered.js';
import { LocalWriter } from '../fsm/writer.js';
import { StanCodec } from './protocol.js';
import { stanServerOptions, type StanServerOptions } from './options.js';
import { recordServerInfo, stanSubjects, type StanSubjects } from './subjects.js';
import { probeForOtherServer } from './probe.js';
import { createSystemScheduler, type Scheduler } from './scheduler.js';
import type { ServerContext } from './context.js';
import { ServingSession } from './session.js';
import type { StreamingMonitorView } from '../monitor/streaming/view.js';
import { StanMonitorView, type MonitorSource } from './monitor-view.js';
import { MetricsBinding } from './metrics-binding.js';
import type { StreamingMetrics } from '../monitor/metrics.js';

/**
 * Opens the store the server runs on. The state machine hands it a clock that shows the time of
 * the ops applied, and expires messages by age itself (through ops), never on a store timer.
 */
export type StoreOpener = (settings: { readonly clock: StoreClock; readonly ageExpiry: 'caller' }) => Promise<Store>;

export class StanServer implements MonitorSource {
  readonly options: StanServerOptions;
  private subjectsInUse: StanSubjects;
  private session: ServingSession | undefined;
  private connections: NatsConnection[] = [];
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  private readonly codec = new StanCodec();
  private readonly clock = new ReplicatedClock();
  private storeInUse: Store | undefined;
  /** This server's own log lines; its parts take children of the root logger. */
  private readonly logger: Logger;
  private readonly fatalListeners: Array<(error: Error) => void> = [];
  private view: StanMonitorView | undefined;
  private metricsBinding: MetricsBinding | undefined;

  constructor(
    private readonly connector: NatsConnector,
    private readonly openStore: StoreOpener,
    options: Partial<StanServerOptions>,
    private readonly root: Logger,
    private readonly scheduler: Scheduler = createSystemScheduler(),
  ) {
    this.logger = root.child({ component: 'stan' });
    this.options = stanServerOptions(options);
    this.subjectsInUse = stanSubjects(this.options.clusterId, this.options.discoverPrefix);
  }

  /** The protocol subjects served: computed from the cluster ID, or recovered from the store. */
  get subjects(): StanSubjects {
    return this.subjectsInUse;
  }

  /** The replicated records, once started. */
  get records(): StreamingState | undefined {
    return this.session?.ctx.fsm.state;
  }

  /** The serving runtime, once started. */
  get context(): ServerContext | undefined {
    return this.session?.ctx;
  }

  /** The store, once start() opened it. */
  get store(): Store {
    if (this.storeInUse === undefined) throw new TstanError('STAN_STATE', 'the store is opened by start()');
    return this.storeInUse;
  }

  get isRunning(): boolean {
    return this.state === 'running';
  }

  /** `listener` hears once when the state can no longer be written (a failed fsync): the node must stop. */
  onFatal(listener: (error: Error) => void): void {
    this.fatalListeners.push(listener);
  }

  /** Feeds Prometheus metrics (one registry per server) from this server; call after start(). */
  attachMetrics(metrics: StreamingMetrics): void {
    const ctx = this.context;
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

  monitorState(): 'STANDALONE' | 'SHUTDOWN' {
    return this.isRunning ? 'STANDALONE' : 'SHUTDOWN';
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new TstanError('STAN_STATE', `server cannot start when ${this.state}`);
    this.state = 'starting';
    const cid = this.options.clusterId;
    try {
      for (const role of ['general', 'send', 'hb']) this.connections.push(await this.connector.connect(`_NSS-${cid}-${role}`));
      const [general, send, hb] = this.connections as [NatsConnection, NatsConnection, NatsConnection];
      if (!this.options.skipServerProbe) {
        await probeForOtherServer(hb, this.codec, this.subjects, cid, this.options.serverProbeMs);
      }
      this.storeInUse = await this.openStore({ clock: this.clock, ageExpiry: 'caller' });
      const recovered = await this.initStore();
      const fsm = new StanFsm({
        store: this.store,
        clock: this.clock,
        persistRecords: this.store.capabilities.persistent,
        logger: this.root.child({ component: 'fsm' }),
        ...(recovered !== undefined ? { state: stateFromRecovered(this.store, recovered) } : {}),
      });
      const writer = new LocalWriter(fsm, (error) => this.fatal(error));
      const ackPrefix = general.newInbox() + '.';
      this.session = new ServingSession({
        options: this.options,
        logger: this.logger,
        scheduler: this.scheduler,
        codec: this.codec,
        subjects: this.subjects,
        store: this.store,
        fsm,
        writer,
        connections: { general, send, hb },
        ackPrefix,
        ackCoverPrefix: ackPrefix,
        onFatal: (error) => this.fatal(error),
      });
      await this.session.start();
    } catch (error) {
      this.state = 'stopped';
      this.session?.abandon();
      for (const connection of this.connections) await connection.close().catch(() => undefined);
      await this.storeInUse?.close().catch(() => undefined);
      throw error;
    }
    this.state = 'running';
    this.logger.info({ clusterId: cid, store: this.store.type }, 'streaming server ready');
  }

  /** Recovers a persistent store's state and records our subjects. */
  private async initStore(): Promise<RecoveredState | undefined> {
    const recovered = await this.store.recover();
    this.subjectsInUse = await recordServerInfo(this.store, this.options.clusterId, this.subjectsInUse, recovered, '');
    return recovered;
  }

  /**
   * The state can no longer be written: nothing more is acknowledged or delivered (the session
   * ends at once), and the node is told to stop.
   */
  private fatal(error: Error): void {
    this.logger.error({ err: error }, 'the store failed: the streaming server stops serving');
    this.session?.abandon();
    for (const listener of this.fatalListeners) listener(error);
  }

  /**
   * Graceful stop: no new requests are taken, accepted publishes are stored and answered, queued
   * control requests finish, then timers stop, connections close and the store is closed.
   */
  async shutdown(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    if (wasRunning) {
      await this.session?.drain();
      this.metricsBinding?.stop();
      for (const connection of this.connections) await connection.close().catch(() => undefined);
    }
    await this.storeInUse?.close().catch((error: unknown) => this.logger.error({ err: error }, 'closing the store failed'));
    this.state = 'stopped';
    this.logger.info('streaming server stopped');
  }
}
