// A clustered streaming node: the STAN server on top of our Raft. Every change of streaming state
// is an op in a Raft entry, applied by the state machine of src/fsm on every node in log order.
// Only the leader serves clients: once its first entry of the term is applied (a barrier, so it
// has applied everything committed before it), it rebuilds the serving runtime from the records
// and subscribes to the protocol subjects; the moment it stops leading, that session is
// abandoned — nothing in flight is answered, and nothing more leaves. Followers apply, answer
// message fetches and monitoring, and are invisible to clients, whose requests reach the leader
// over the routes. Raft messages travel over NATS too (src/transport/raft/nats-transport.ts).
import { join } from 'node:path';
import type { Logger } from '../util/logger.js';
import type { NatsConnection, NatsConnector, NatsSubscription } from '../transport/nats/connection.js';
import type { RecoveredState, Store } from '../store/types.js';
import { TstanError } from '../util/errors.js';
import { Nuid } from '../util/nuid.js';
import { ReplicatedClock } from '../fsm/context.js';
import { StanFsm } from '../fsm/stan-fsm.js';
import type { StreamingState } from '../fsm/records.js';
import { StanCodec } from '../server/protocol.js';
import { stanServerOptions, type StanServerOptions } from '../server/options.js';
import { recordServerInfo, stanSubjects, type StanSubjects } from '../server/subjects.js';
import { createSystemScheduler, type Scheduler } from '../server/scheduler.js';
import type { ServerContext } from '../server/context.js';
import { ServingSession } from '../server/session.js';
import type { StoreOpener } from '../server/server.js';
import { StanMonitorView, type MonitorSource } from '../server/monitor-view.js';
import type { StreamingMonitorView, StreamingServerState } from '../monitor/streaming/view.js';
import { MetricsBinding } from '../server/metrics-binding.js';
import type { StreamingMetrics } from '../monitor/metrics.js';
import { DurableRaftStorage } from '../store/raft/durable-storage.js';
import { NatsRaftTransport } from '../transport/raft/nats-transport.js';
import { isValidNodeId } from '../transport/raft/node-id.js';
import { RaftDriver, type RaftDriverEvent } from '../raft/driver.js';
import { FsmStateMachine } from './fsm-machine.js';
import { stateFromRecovered } from '../fsm/recovered.js';
import { encodeSnapshot } from '../fsm/snapshot.js';
import { FetchClient, FetchServer, fetchSubject } from './fetch.js';
import { RaftWriter } from './raft-writer.js';
import { raftTimingOf, type ClusterSettings } from './options.js';
import { answerStateProbes, decideStartup, handoverSubject, reachPeers, servingSubject, takeOverSubject, type StartupMode } from './startup.js';
import { MembershipService } from './membership.js';
import { internalInboxPrefix } from '../transport/nats/internal-subjects.js';
import type { OpResult } from '../fsm/ops.js';
import { findDiskFull } from '../util/disk-full.js';

/** How long after a leader announced its hand-over the next leader still expects its requests. */
const HANDOVER_NOTICE_MS = 10_000;
/** How long the next leader waits for them; past it (the old leader died), it serves without. */
const TAKE_OVER_WAIT_MS = 4_000;
/** How long a new leader waits for every peer to answer before it says it serves without them. */
const PEER_REACH_WAIT_MS = 1_000;

export class ClusteredStanServer implements MonitorSource {
  readonly options: StanServerOptions;
  private subjectsInUse: StanSubjects;
  private readonly codec = new StanCodec();
  private readonly clock = new ReplicatedClock();
  private storeInUse: Store | undefined;
  private fsm: StanFsm | undefined;
  private machine: FsmStateMachine | undefined;
  private driver: RaftDriver | undefined;
  private writer: RaftWriter | undefined;
  private session: ServingSession | undefined;
  /** The session has started and its subscriptions are in place: this node answers serving probes. */
  private answeringServing = false;
  /** A leader announced it hands over: if this node leads next, soon, it takes over its requests. */
  private handoverFrom: { readonly nodeId: string; readonly untilMs: number } | undefined;
  /** The node whose requests this node's session waits for, if any. */
  private takingOverFrom: string | undefined;
  /** Counts leaderships: a barrier that completes after the term it was proposed in ends is ignored. */
  private leadership = 0;
  private connections: NatsConnection[] = [];
  private readonly subs: NatsSubscription[] = [];
  private fetchServer: FetchServer | undefined;
  private fetchClient: FetchClient | undefined;
  private membership: MembershipService | undefined;
  private nodeIdInUse = '';
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  private startCancelled = false;
  /** This server's own log lines; its parts take children of the root logger. */
  private readonly logger: Logger;
  private readonly fatalListeners: Array<(error: Error) => void> = [];
  private view: StanMonitorView | undefined;
  private metrics: StreamingMetrics | undefined;
  private metricsBinding: MetricsBinding | undefined;

  constructor(
    private readonly connector: NatsConnector,
    private readonly openStore: StoreOpener,
    options: Partial<StanServerOptions>,
    private readonly cluster: ClusterSettings & { readonly dir: string },
    private readonly root: Logger,
    private readonly scheduler: Scheduler = createSystemScheduler(),
  ) {
    this.logger = root.child({ component: 'stan' });
    this.options = stanServerOptions(options);
    this.subjectsInUse = stanSubjects(this.options.clusterId, this.options.discoverPrefix);
  }

  get subjects(): StanSubjects {
    return this.subjectsInUse;
  }

  get nodeId(): string {
    return this.nodeIdInUse;
  }

  get store(): Store {
    if (this.storeInUse === undefined) throw new TstanError('STAN_STATE', 'the store is opened by start()');
    return this.storeInUse;
  }

  get records(): StreamingState | undefined {
    return this.fsm?.state;
  }

  get context(): ServerContext | undefined {
    return this.session?.ctx;
  }

  get raft(): RaftDriver | undefined {
    return this.driver;
  }

  get isRunning(): boolean {
    return this.state === 'running';
  }

  /** Knows a leader and has applied everything committed that it heard of: fit to be routed to. */
  isReady(): boolean {
    const driver = this.driver;
    if (driver === undefined || driver.isStopped || this.state !== 'running') return false;
    const status = driver.status();
    return status.caughtUp && this.machine?.status().waiting === '';
  }

  machineStatus(): { waiting: string; snapshotsRestored: number; messagesFetched: number } {
    return this.machine?.status() ?? { waiting: 'starting', snapshotsRestored: 0, messagesFetched: 0 };
  }

  /** Asks the leader (through the cluster's internal subjects) to add or remove a node. */
  requestMembershipChange(kind: 'add' | 'remove', nodeId: string): Promise<string> {
    if (!this.cluster.allowAddRemoveNode) return Promise.resolve('-ERR adding and removing nodes needs --cluster_allow_add_remove_node');
    if (this.membership === undefined) return Promise.resolve('-ERR the node is not running');
    return this.membership.requestChange(kind, nodeId);
  }

  /** Leads and serves clients now. */
  get isServing(): boolean {
    return this.session?.isServing === true;
  }

  /** Start-up stops waiting (for peers' answers) and fails; the caller then shuts down. */
  cancelStart(): void {
    if (this.state === 'starting') this.startCancelled = true;
  }

  onFatal(listener: (error: Error) => void): void {
    this.fatalListeners.push(listener);
  }

  monitorView(): StreamingMonitorView {
    this.view ??= new StanMonitorView(this);
    return this.view;
  }

  monitorState(): StreamingServerState {
    return this.isRunning ? 'CLUSTERED' : 'SHUTDOWN';
  }

  monitorRole(): string | undefined {
    const role = this.driver?.role;
    if (role === undefined) return undefined;
    return role.charAt(0).toUpperCase() + role.slice(1);
  }

  monitorNodeId(): string | undefined {
    return this.nodeIdInUse || undefined;
  }

  /** Metrics follow whichever session serves (counters restart with each leadership). */
  attachMetrics(metrics: StreamingMetrics): void {
    this.metrics = metrics;
    const status = () => this.driver?.status();
    metrics.setRaftSource({
      role: () => (status()?.role ?? 'starting'),
      term: () => status()?.term ?? 0,
      commitIndex: () => status()?.commit ?? 0,
      appliedIndex: () => status()?.applied ?? 0,
      leaderCommit: () => status()?.leaderCommit ?? 0,
      electionsStarted: () => status()?.counters.electionsStarted ?? 0,
      leadershipChanges: () => status()?.counters.leadershipChanges ?? 0,
      snapshotsTaken: () => status()?.counters.snapshotsTaken ?? 0,
      snapshotsInstalled: () => status()?.counters.snapshotsInstalled ?? 0,
      syncsPerAppliedEntry: () => status()?.counters.syncsPerAppliedEntry ?? 0,
      peerLag: () => (status()?.peers ?? []).map((p) => ({ peer: p.id, lag: p.lag })),
    });
    this.bindMetrics();
  }

  private bindMetrics(): void {
    this.metricsBinding?.stop();
    this.metricsBinding = undefined;
    const ctx = this.session?.ctx;
    if (this.metrics === undefined || ctx === undefined) return;
    const binding = new MetricsBinding(ctx, this.metrics);
    this.metricsBinding = binding;
    ctx.observeStoreWrite = (startNs, endNs) => binding.observeStoreWrite(startNs, endNs);
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new TstanError('STAN_STATE', `server cannot start when ${this.state}`);
    this.state = 'starting';
    const cid = this.options.clusterId;
    try {
      for (const role of ['general', 'send', 'hb']) this.connections.push(await this.connector.connect(`_NSS-${cid}-${role}`));
      // The nodes' requests to each other go out on this one, answered under the internal prefix.
      this.connections.push(await this.connector.connect(`_NSS-${cid}-raft`, { inboxPrefix: internalInboxPrefix(cid) }));
      this.storeInUse = await this.openStore({ clock: this.clock, ageExpiry: 'caller' });
      const recovered = await this.store.recover();
      this.nodeIdInUse = this.resolveNodeId(recovered);
      this.subjectsInUse = await recordServerInfo(this.store, this.options.clusterId, this.subjectsInUse, recovered, this.nodeIdInUse);
      const logPath = this.cluster.logPath || join(this.cluster.dir, '.raft');
      const storage = await DurableRaftStorage.open(logPath, {
        sync: this.cluster.sync,
        snapshotsRetained: this.cluster.logSnapshots,
        logger: this.root.child({ component: 'raft-storage' }),
        ...(this.cluster.durability !== undefined ? { durability: this.cluster.durability } : {}),
        ...(this.cluster.encryption !== undefined ? { encryption: this.cluster.encryption } : {}),
      });
      if (this.standalone(recovered)) await this.adoptStandaloneStore(storage, recovered!, logPath);
      else this.checkLogAgainstStore(storage, recovered, logPath);
      await this.startRaft(storage);
    } catch (error) {
      this.state = 'stopped';
      await this.teardown();
      throw error;
    }
    this.state = 'running';
    this.logger.info({ clusterId: cid, nodeId: this.nodeIdInUse, store: this.store.type }, 'clustered streaming node ready');
  }

  /** The configured node ID must match the one the store recorded; none given: stored, else new. */
  private resolveNodeId(recovered: RecoveredState | undefined): string {
    const stored = recovered?.info.nodeId ?? '';
    const configured = this.cluster.nodeId;
    if (configured !== '' && stored !== '' && configured !== stored) {
      throw new TstanError('CLUSTER_NODE_ID_MISMATCH', `cluster node ID "${configured}" does not match the stored node ID "${stored}"`);
    }
    const id = configured || stored || new Nuid().next();
    if (!isValidNodeId(id)) throw new TstanError('CONFIG_INVALID', `cluster node ID "${id}" must be letters, digits, - or _ (and not join or bootstrap)`);
    if (this.standalone(recovered) && !this.cluster.bootstrap) {
      throw new TstanError(
        'CLUSTER_STANDALONE_STORE',
        'stan: cannot restart server in clustered mode if it was not previously clustered (the data directory holds a standalone store); ' +
          'start it alone with --cluster_bootstrap to make it the first node of a new cluster, the others joining it',
      );
    }
    return id;
  }

  /** The store was written by a standalone server: no node ID recorded, yet clients or channels. */
  private standalone(recovered: RecoveredState | undefined): boolean {
    return recovered !== undefined && recovered.info.nodeId === '' && (recovered.clients.length > 0 || recovered.channels.length > 0);
  }

  /**
   * Beyond the reference: a standalone FILE store becomes the first node of a new cluster. Its
   * clients, subscriptions and channels become the records of a snapshot at index 1, and the log
   * starts after it, so every node that joins installs that snapshot and fetches the messages.
   */
  private async adoptStandaloneStore(storage: DurableRaftStorage, recovered: RecoveredState, logPath: string): Promise<void> {
    if (storage.lastIndex() !== 0 || storage.snapshot() !== undefined) {
      throw new TstanError('CLUSTER_LOG_MISSING', `the cluster log path "${logPath}" holds a Raft log while "${this.cluster.dir}" holds a standalone store`);
    }
    const state = stateFromRecovered(this.store, recovered);
    const config = { voters: [this.nodeIdInUse], nonVoters: [] };
    await storage.bootstrap(config);
    for (const channel of state.channels.values()) await channel.store.msgs.sync();
    await storage.saveSnapshot({ meta: { index: 1, term: 1, config }, data: encodeSnapshot(state) });
    await storage.compact(2);
    this.logger.info(
      { nodeId: this.nodeIdInUse, clients: state.clients.size, channels: state.channels.size },
      'a standalone store became the first node of a new cluster',
    );
  }

  /** A store that holds messages while the Raft log is gone cannot vouch for them: refuse. */
  private checkLogAgainstStore(storage: DurableRaftStorage, recovered: RecoveredState | undefined, logPath: string): void {
    const logEmpty = storage.lastIndex() === 0 && storage.snapshot() === undefined;
    const storeHasData = recovered !== undefined && recovered.channels.some((c) => c.channel.msgs.lastSequence() > 0);
    if (logEmpty && storeHasData) {
      throw new TstanError(
        'CLUSTER_LOG_MISSING',
        `streaming state was recovered from "${this.cluster.dir}" but the cluster log path "${logPath}" is empty: ` +
          'restore the Raft log, or remove the data directory so that this node rejoins and catches up from its peers',
      );
    }
  }

  private hasRaftState(storage: DurableRaftStorage): boolean {
    return storage.lastIndex() > 1 || storage.snapshot() !== undefined || storage.initialState().hardState.term > 1;
  }

  private async startRaft(storage: DurableRaftStorage): Promise<void> {
    const [, , , raftConnection] = this.connections as [NatsConnection, NatsConnection, NatsConnection, NatsConnection];
    const cid = this.options.clusterId;
    const nodeId = this.nodeIdInUse;
    const fsm = new StanFsm({ store: this.store, clock: this.clock, persistRecords: false, logger: this.root.child({ component: 'fsm' }) });
    this.fsm = fsm;
    this.subs.push(answerStateProbes(raftConnection, cid, nodeId, () => this.hasRaftState(storage)));
    this.subs.push(
      raftConnection.subscribe(servingSubject(cid), (_subject, reply) => {
        if (reply !== undefined && this.answeringServing && this.session?.isServing === true && this.state === 'running') raftConnection.publish(reply, new TextEncoder().encode(nodeId));
      }),
    );
    this.subs.push(
      raftConnection.subscribe(handoverSubject(cid), (_subject, _reply, payload) => {
        const text = new TextDecoder().decode(payload);
        if (text.startsWith('-')) {
          // It found no node serving in time and stopped with what it had parked: nothing to wait for.
          const from = text.slice(1);
          if (this.handoverFrom?.nodeId === from) this.handoverFrom = undefined;
          if (this.takingOverFrom === from) this.session?.endTakeOver();
        } else if (text !== nodeId) {
          this.handoverFrom = { nodeId: text, untilMs: Date.now() + HANDOVER_NOTICE_MS };
        }
      }),
    );
    this.fetchServer = new FetchServer(raftConnection, fetchSubject(cid, nodeId), () => fsm.state, this.root.child({ component: 'fetch' }));
    this.fetchServer.start();
    this.fetchClient = new FetchClient({
      connection: raftConnection,
      clusterId: cid,
      peers: () => this.peerIds(),
      rounds: this.cluster.proceedOnRestoreFailure ? 10 : 0,
      logger: this.root.child({ component: 'fetch' }),
    });
    // A store that lost a write stops the node at once (the driver halts: no vote, ack or apply).
    this.machine = new FsmStateMachine(fsm, this.clock, this.fetchClient, this.root.child({ component: 'fsm-raft' }), (error) => this.driver?.fail(error));
    const mode: StartupMode = await decideStartup({
      connection: raftConnection,
      clusterId: cid,
      nodeId,
      peers: this.cluster.peers,
      bootstrap: this.cluster.bootstrap,
      hasRaftState: storage.lastIndex() > 0 || storage.snapshot() !== undefined,
      logger: this.logger,
      cancelled: () => this.startCancelled,
    });
    if (this.startCancelled) throw new TstanError('STAN_START_CANCELLED', 'start-up was cancelled');
    this.logger.info({ nodeId, mode }, 'joining the cluster');
    const transport = new NatsRaftTransport({ connection: raftConnection, clusterId: cid, localId: nodeId, logger: this.root });
    const timing = raftTimingOf(this.cluster);
    const driver = await RaftDriver.start({
      id: nodeId,
      storage,
      transport,
      stateMachine: this.machine,
      ...(mode.kind === 'found' ? { bootstrap: { voters: mode.voters, nonVoters: [] } } : {}),
      // A joining node may be a member whose disk was lost: it too waits to catch up before voting.
      ...(mode.kind === 'rejoin' || mode.kind === 'join' ? { rejoining: true } : {}),
      tickMs: timing.tickMs,
      snapshotEveryEntries: this.cluster.snapshotEveryEntries ?? 8192,
      raft: {
        ...timing.raft,
        trailingLogs: this.cluster.trailingLogs,
        logCacheSize: this.cluster.logCacheSize,
        preVote: true,
        checkQuorum: true,
        // A node added while serving votes only once it holds the committed log.
        promoteNonVoters: true,
      },
      logger: this.root,
      ...(this.cluster.raftTrace !== undefined ? { trace: this.cluster.raftTrace } : {}),
    });
    this.driver = driver;
    this.writer = new RaftWriter({
      propose: (data) => driver.propose(data).then(({ result }) => result ?? []),
    });
    this.membership = new MembershipService({
      // Joins and node add/remove are answered to the raft connection's internal inboxes.
      connection: raftConnection,
      clusterId: cid,
      driver,
      allowAddRemove: this.cluster.allowAddRemoveNode,
      logger: this.root.child({ component: 'membership' }),
    });
    driver.onEvent((event) => this.onRaftEvent(event));
    if (mode.kind === 'join') this.membership.requestJoin(nodeId, () => this.state === 'running' || this.state === 'starting');
    if (driver.role === 'leader') this.onLeadership();
  }

  /** Every other node of the configuration, for fetches. */
  private peerIds(): string[] {
    const status = this.driver?.status();
    if (status === undefined) return [...this.cluster.peers];
    const ids = [...status.config.voters, ...status.config.nonVoters].filter((id) => id !== this.nodeIdInUse);
    // The leader first: it holds everything committed.
    return ids.sort((a, b) => Number(b === status.leader) - Number(a === status.leader));
  }

  private onRaftEvent(event: RaftDriverEvent): void {
    switch (event.type) {
      case 'role':
        if (event.role === 'leader') this.onLeadership();
        else this.onFollowing();
        return;
      case 'stopped':
        this.onFollowing();
        if (event.error !== undefined && this.state === 'running') {
          const error = event.error instanceof Error ? event.error : new Error(String(event.error));
          for (const listener of this.fatalListeners) listener(error);
        }
        return;
      default:
        return;
    }
  }

  /** Leading: serve once the barrier (an entry of this term) is applied. */
  private onLeadership(): void {
    if (this.session !== undefined || this.writer === undefined) return;
    const leadership = ++this.leadership;
    this.membership?.lead();
    this.writer.submit([]).then(
      () => {
        if (leadership !== this.leadership || this.driver?.role !== 'leader' || this.state === 'stopping' || this.state === 'stopped') return;
        this.startSession().catch((error: unknown) => this.logger.error({ err: error }, 'starting to serve as leader failed'));
      },
      (error: unknown) => this.logger.info({ err: error }, 'leadership ended before its first entry was applied'),
    );
  }

  private async startSession(): Promise<void> {
    const [general, send, hb] = this.connections as [NatsConnection, NatsConnection, NatsConnection];
    const ackCoverPrefix = `${this.subjects.acksSubs}.`;
    const session = new ServingSession({
      options: this.options,
      logger: this.logger,
      scheduler: this.scheduler,
      codec: this.codec,
      subjects: this.subjects,
      store: this.store,
      fsm: this.fsm!,
      writer: this.writer!,
      connections: { general, send, hb },
      ackPrefix: `${ackCoverPrefix}${new Nuid().next()}.`,
      ackCoverPrefix,
      onFatal: (error) => this.logger.error({ err: error }, 'the serving session failed'),
    });
    this.session = session;
    const from = this.handoverFrom;
    this.handoverFrom = undefined;
    const takingOver = from !== undefined && Date.now() < from.untilMs;
    this.takingOverFrom = takingOver ? from.nodeId : undefined;
    await session.start(takingOver ? { subject: takeOverSubject(this.options.clusterId, this.nodeIdInUse), waitMs: TAKE_OVER_WAIT_MS } : undefined);
    if (takingOver) this.logger.info({ from: from.nodeId }, 'taking over from the leader handing over: its requests first');
    // Its subscriptions have reached this node's server (start() flushed them). A node handing
    // over may stop taking requests once it hears this one serves, so that is said only once the
    // other nodes' servers, where their clients are, have learnt of them too: once every peer
    // answered a probe sent after them over the same routes (or a peer that is down let it pass).
    await reachPeers(this.connections[3]!, this.options.clusterId, this.nodeIdInUse, this.peerIds(), PEER_REACH_WAIT_MS);
    this.answeringServing = this.session === session;
    this.bindMetrics();
    this.logger.info({ nodeId: this.nodeIdInUse, term: this.driver?.term }, 'leading: serving clients');
  }

  /** Not leading (any more): the session ends at once, first. */
  private onFollowing(): void {
    this.leadership++;
    this.takingOverFrom = undefined;
    this.answeringServing = false;
    this.membership?.follow();
    const session = this.session;
    if (session === undefined) return;
    this.session = undefined;
    session.abandon();
    this.metricsBinding?.stop();
    this.metricsBinding = undefined;
    this.logger.info({ nodeId: this.nodeIdInUse }, 'no longer leading: stopped serving clients');
  }

  /**
   * Graceful stop: a leader finishes and answers what it accepted, hands leadership to its most
   * up-to-date voter, then the node stops.
   */
  async shutdown(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    this.answeringServing = false;
    const session = this.session;
    // The session is this shutdown's now: losing leadership below must not abandon it.
    this.session = undefined;
    if (session !== undefined) {
      await this.announceHandover();
      await session.drain({ handover: true });
    }
    await this.driver?.stop({ transferLeadershipMs: this.cluster.transferLeadershipMs ?? 3_000 });
    if (session !== undefined) {
      // Requests keep arriving here (and are parked) until the new leader serves: stopping to
      // take them earlier would leave their subjects without a subscriber, and NATS drops them.
      // It says it serves once every server of the cluster knows its subscriptions: requests
      // sent from now on reach it rather than nobody.
      const next = await this.awaitServingPeer(3_000);
      const passedOn = await session.releaseParked(next === undefined ? undefined : takeOverSubject(this.options.clusterId, next));
      if (next === undefined) await this.announceHandover(false);
      if (passedOn.requests + passedOn.acks > 0) this.logger.info({ ...passedOn, to: next }, 'requests and acks received while handing over passed on to the new leader');
    }
    await this.teardown();
    this.state = 'stopped';
    this.logger.info('clustered streaming node stopped');
  }

  /**
   * Tells the other nodes that this leader hands over, before it parks requests; or, with
   * `false`, that it gave up (no node served in time), so that none waits for its requests.
   */
  private async announceHandover(handingOver = true): Promise<void> {
    const connection = this.connections[3];
    if (connection === undefined || connection.isClosed) return;
    connection.publish(handoverSubject(this.options.clusterId), new TextEncoder().encode(`${handingOver ? '' : '-'}${this.nodeIdInUse}`));
    // Through this node's server (and its routes) before the Raft messages of the transfer.
    await new Promise<void>((resolve) => connection.flush(() => resolve()));
  }

  /** The ID of another node once it answers that it serves clients, or undefined after `waitMs`. */
  private awaitServingPeer(waitMs: number): Promise<string | undefined> {
    const connection = this.connections[3];
    if (connection === undefined || connection.isClosed) return Promise.resolve(undefined);
    const subject = servingSubject(this.options.clusterId);
    return new Promise((resolve) => {
      const inbox = connection.newInbox();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = (serving: string | undefined): void => {
        clearTimeout(deadline);
        clearTimeout(timer);
        sub.unsubscribe();
        resolve(serving);
      };
      const sub = connection.subscribe(inbox, (_subject, _reply, payload) => {
        const serving = new TextDecoder().decode(payload);
        if (serving !== this.nodeIdInUse) finish(serving);
      });
      const deadline = setTimeout(() => finish(undefined), waitMs);
      const ask = (): void => {
        connection.publish(subject, new Uint8Array(0), inbox);
        timer = setTimeout(ask, 20);
      };
      ask();
    });
  }

  private async teardown(): Promise<void> {
    this.session?.abandon();
    this.session = undefined;
    this.metricsBinding?.stop();
    this.membership?.stop();
    this.fetchClient?.stop();
    this.fetchServer?.stop();
    for (const sub of this.subs) sub.unsubscribe();
    this.subs.length = 0;
    if (this.driver !== undefined && !this.driver.isStopped) await this.driver.stop().catch(() => undefined);
    for (const connection of this.connections) await connection.close().catch(() => undefined);
    this.connections = [];
    await this.storeInUse?.close().catch((error: unknown) => {
      // After a full disk stopped the node, closing fails the same way: that was reported already.
      if (findDiskFull(error) !== undefined) this.logger.warn({ err: error }, 'closing the store failed: the disk is full');
      else this.logger.error({ err: error }, 'closing the store failed');
    });
  }
}
