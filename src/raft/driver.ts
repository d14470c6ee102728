// The one asynchronous part of Raft: it owns the tick timer, the durable storage, the transport
// and the application's state machine, and carries out each Ready in the order that is safe:
//   1. `messages` leave at once: a leader's AppendEntries go out while its own write is in flight
//      (Raft thesis §10.2.1); the core counts the leader toward a commit only at advance().
//   2. snapshot, entries and hard state are written in ONE storage write with ONE fsync. While it
//      is in flight the core keeps taking proposals and messages, so the next Ready carries all
//      of them: many proposals share one fsync (group commit).
//   3. `messagesAfterPersist` (votes, append and snapshot responses) leave only once that is durable.
//   4. a received snapshot is restored, committed entries are applied in order (those already
//      durable here during the write, the rest after it), the log is compacted behind a durable
//      snapshot once the application's store is synced that far, then advance().
// Between Readies it takes the application's snapshots: every N entries, every interval, or on
// demand. A failure of storage, of the state machine or of an invariant stops the node: it is not
// left running on a state it can no longer vouch for.

import type { Logger } from '../util/logger.js';
import { silentLogger } from '../util/logger.js';
import type { Entry } from './types.js';
import type { Message, SnapshotMeta } from './messages.js';
import type { RandomSource } from './options.js';
import type { ConfigChange } from './membership.js';
import type { RaftTransport } from './transport.js';
import type { DurableStorage } from './storage.js';
import type { Role } from './raft.js';
import type { ConfigChangeResult, ProposalResult, RaftDriverEvent, RaftDriverOptions, RaftDriverStats, RaftStateMachine } from './driver-types.js';
import type { RaftDriverStatus } from './driver-status.js';
import { RaftNode, type Ready } from './node.js';
import { ProposalRefusedError, RaftError, RaftErrorCode, RefusalReason } from './errors.js';
import { PendingProposals } from './proposals.js';
import { buildDriverStatus } from './driver-status.js';
import { SnapshotSchedule } from './snapshot-schedule.js';
import { DriverEvents } from './driver-events.js';
import { mostUpToDateVoter } from './leader-membership.js';
import { assert } from '../util/assert.js';
import type { RaftTraceSink } from './trace.js';
import { findDiskFull } from '../util/disk-full.js';

export type { ConfigChangeResult, ProposalResult, RaftDriverEvent, RaftDriverOptions, RaftDriverStats, RaftStateMachine } from './driver-types.js';
export type { PeerStatus, RaftDriverCounters, RaftDriverStatus } from './driver-status.js';

const mathRandom: RandomSource = { nextInt: (maxExclusive) => Math.floor(Math.random() * maxExclusive) };

export class RaftDriver<R = unknown> {
  readonly id: string;
  private readonly node: RaftNode;
  private readonly storage: DurableStorage;
  private readonly transport: RaftTransport<Message>;
  private readonly stateMachine: RaftStateMachine<R>;
  private readonly logger: Logger;
  private readonly snapshots: SnapshotSchedule;
  private readonly proposals = new PendingProposals();
  private readonly events: DriverEvents;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private driveScheduled = false;
  private stopped = false;
  private closed = false;
  private failure: unknown = undefined;
  private lastLeader = '';
  private applied: number;
  /** The application's store is synced through this index (its snapshot or a sync()). */
  private storeSyncedThrough: number;
  /** Started behind the catch-up gate, and its durable record not yet cleared. */
  private gateHeld = false;
  private readies = 0;
  private persists = 0;
  private entriesPersisted = 0;
  private entriesApplied = 0;
  private leadershipChanges = 0;
  private readonly trace: RaftTraceSink | undefined;
  /** With a trace: the last term in which this node sent an AppendEntries or heartbeat. */
  private tracedLeadTerm = 0;

  private constructor(options: RaftDriverOptions<R>, node: RaftNode, applied: number) {
    this.id = options.id;
    this.trace = options.trace;
    this.node = node;
    this.storage = options.storage;
    this.transport = options.transport;
    this.stateMachine = options.stateMachine;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'raft-driver', node: options.id });
    this.events = new DriverEvents(this.logger);
    const intervalTicks = SnapshotSchedule.intervalTicks(options.snapshotIntervalMs ?? 120_000, options.tickMs ?? 100);
    this.snapshots = new SnapshotSchedule(applied, options.snapshotEveryEntries ?? 8192, intervalTicks);
    this.applied = applied;
    this.storeSyncedThrough = applied;
  }

  /** Restores the state machine from the newest snapshot, starts the core, the transport and the tick. */
  static async start<R>(options: RaftDriverOptions<R>): Promise<RaftDriver<R>> {
    const lost = options.storage.catchUpReason?.();
    const rejoining = options.rejoining === true || lost !== undefined;
    if (lost !== undefined) options.logger?.warn({ id: options.id, reason: lost }, 'raft: starting behind the catch-up gate: no vote or campaign before catching up');
    // Durably, before anything: a restart while catching up must find the gate again.
    if (rejoining) await options.storage.holdCatchUpGate?.(lost ?? 'its Raft state was lost: rejoining');
    if (options.bootstrap !== undefined && !rejoining) await options.storage.bootstrap(options.bootstrap);
    const snapshot = options.storage.snapshot();
    if (snapshot !== undefined) await options.stateMachine.restore(snapshot.data);
    const applied = snapshot?.meta.index ?? 0;
    const node = new RaftNode({
      ...options.raft,
      id: options.id,
      random: options.random ?? mathRandom,
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
      storage: options.storage,
      applied,
      rejoining,
    });
    const driver = new RaftDriver(options, node, applied);
    driver.gateHeld = rejoining;
    if (options.trace !== undefined) {
      const storage = options.storage;
      const { hardState } = storage.initialState();
      const tailFrom = Math.max(hardState.commit + 1, storage.firstIndex(), storage.lastIndex() - 10_000);
      const uncommitted = tailFrom <= storage.lastIndex() ? storage.entries(tailFrom, storage.lastIndex() + 1, Number.POSITIVE_INFINITY) : [];
      options.trace.record({ type: 'start', hardState, firstIndex: storage.firstIndex(), lastIndex: storage.lastIndex(), snapshotIndex: applied, rejoining, uncommitted });
    }
    options.transport.onMessage((message, from) => driver.receive(message, from));
    driver.timer = setInterval(() => driver.tick(), options.tickMs ?? 100);
    driver.scheduleDrive();
    return driver;
  }

  get role(): Role {
    return this.node.role;
  }

  get leader(): string {
    return this.node.leader;
  }

  get term(): number {
    return this.node.term;
  }

  get appliedIndex(): number {
    return this.applied;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Role, term, leader, commit and applied indexes, peers, snapshots, counters (see RaftDriverStatus). */
  status(): RaftDriverStatus {
    const snapshots = this.snapshots;
    return buildDriverStatus(this.node.status(), {
      applied: this.applied,
      lastSnapshotIndex: snapshots.lastIndex,
      takingSnapshot: snapshots.taking,
      restoringSnapshot: snapshots.restoring,
      leadershipChanges: this.leadershipChanges,
      snapshotsTaken: snapshots.taken,
      snapshotsInstalled: snapshots.installed,
      entriesApplied: this.entriesApplied,
      syncs: this.storage.stats().syncs,
    });
  }

  /** Entries [low, high) of this node's log, for checks and debugging. */
  entriesBetween(low: number, high: number): readonly Entry[] | undefined {
    return this.node.entriesBetween(low, high);
  }

  stats(): RaftDriverStats {
    return {
      readies: this.readies,
      persists: this.persists,
      syncs: this.storage.stats().syncs,
      entriesPersisted: this.entriesPersisted,
      entriesApplied: this.entriesApplied,
      proposalsCommitted: this.proposals.committed,
    };
  }

  onEvent(listener: (event: RaftDriverEvent) => void): () => void {
    return this.events.add(listener);
  }

  /**
   * Proposes `data`; resolves with its index and the state machine's result once it is applied
   * here. Rejects with what is known (see proposalOutcome): RAFT_NOT_LEADER or
   * RAFT_PROPOSAL_REFUSED if it was never appended, RAFT_PROPOSAL_DROPPED if another entry was
   * committed at its index, RAFT_PROPOSAL_UNKNOWN if its fate is unknown.
   */
  propose(data: Uint8Array): Promise<ProposalResult<R>> {
    const refused = this.refuseIfStopped();
    if (refused !== undefined) return Promise.reject(refused);
    this.proposals.syncLeadership(this.node);
    let index: number;
    try {
      index = this.node.propose(data);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    this.scheduleDrive();
    return this.proposals.add<R>(index, this.node.term);
  }

  /**
   * Adds `id` as a non-voter (it receives the log; promote it with promoteNode, or let the leader
   * do it with the core option promoteNonVoters). Resolves once the change is applied here.
   * Rejects with RAFT_NOT_LEADER, RAFT_CONFIG_CHANGE_PENDING (one change at a time, and not
   * before the leader committed an entry of its term), RAFT_BAD_CONFIG_CHANGE (already a
   * member, bad ID), or the proposal codes of propose().
   */
  addNode(id: string): Promise<ConfigChangeResult> {
    return this.changeMembership({ type: 'addNonVoter', node: id });
  }

  /** Makes non-voter `id` a voter once it has caught up (else RAFT_NOT_CAUGHT_UP); as addNode. */
  promoteNode(id: string): Promise<ConfigChangeResult> {
    return this.changeMembership({ type: 'addVoter', node: id });
  }

  /**
   * Removes `id` (RAFT_UNKNOWN_NODE if it is no member); otherwise as addNode. A leader removing
   * itself leads until the removal commits, then steps down and hands over.
   */
  removeNode(id: string): Promise<ConfigChangeResult> {
    return this.changeMembership({ type: 'remove', node: id });
  }

  private changeMembership(change: ConfigChange): Promise<ConfigChangeResult> {
    const refused = this.refuseIfStopped();
    if (refused !== undefined) return Promise.reject(refused);
    this.proposals.syncLeadership(this.node);
    let index: number;
    try {
      index = this.node.proposeConfigChange(change);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    this.scheduleDrive();
    return this.proposals.addConfigChange(index, this.node.term);
  }

  /**
   * Takes a snapshot of the application at the applied index now (after the Ready in progress),
   * syncs the application's store that far, saves it and lets the log be compacted behind it
   * (keeping trailingLogs entries). Resolves with its position; with the latest snapshot's if
   * nothing was applied since.
   */
  snapshotNow(): Promise<SnapshotMeta> {
    if (this.stopped) return Promise.reject(this.stoppedError());
    return new Promise((resolve, reject) => {
      this.snapshots.request({ resolve, reject });
      this.scheduleDrive();
    });
  }

  campaign(): void {
    this.node.campaign();
    this.scheduleDrive();
  }

  transferLeadership(target: string): void {
    this.node.transferLeadership(target);
    this.scheduleDrive();
  }

  /**
   * Stops the node: no more ticks, messages or Readies; the write in flight is allowed to land,
   * proposals still waiting are rejected (RAFT_PROPOSAL_UNKNOWN), transport and storage are
   * closed. With `transferLeadershipMs`, a leader first hands over to its most up-to-date voter
   * and waits until that voter leads or that long has passed, so the cluster need not wait out
   * an election.
   */
  async stop(options: { transferLeadershipMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    if ((options.transferLeadershipMs ?? 0) > 0) await this.handOverLeadership(options.transferLeadershipMs!);
    if (this.closed) return;
    this.closed = true;
    this.halt(undefined);
    await this.inFlight?.catch(() => undefined);
    await this.transport.close();
    await this.storage.close();
  }

  /**
   * Stops the node on a failure found outside it: its application's store lost a write. As for
   * a failure of its own storage, no more ticks, messages, votes or applies; waiting proposals
   * are rejected and the owner hears a `stopped` event carrying `error`.
   */
  fail(error: Error): void {
    this.halt(error);
  }

  private async handOverLeadership(timeoutMs: number): Promise<void> {
    if (this.stopped || this.node.role !== 'leader') return;
    const target = mostUpToDateVoter(this.node.status(), this.id);
    if (target === undefined) return;
    try {
      this.transferLeadership(target);
    } catch (error) {
      this.logger.warn({ err: error, target }, 'leadership transfer refused; stopping without it');
      return;
    }
    await new Promise<void>((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        unsubscribe();
        resolve();
      };
      const timer = setTimeout(() => {
        this.logger.warn({ target, timeoutMs }, 'leadership transfer did not finish in time; stopping anyway');
        finish();
      }, timeoutMs);
      const unsubscribe = this.onEvent((event) => {
        if (event.type === 'stopped' || (event.type === 'role' && event.leader === target)) finish();
      });
    });
  }

  private tick(): void {
    if (this.stopped) return;
    this.snapshots.onTick();
    this.node.tick();
    this.scheduleDrive();
  }

  private receive(message: Message, from: string): void {
    if (this.stopped) return;
    if (typeof message !== 'object' || message === null) {
      this.logger.warn({ from }, 'dropping a raft message that is not an object');
      return;
    }
    if (message.from !== from || message.to !== this.id) {
      this.logger.warn({ from, claimed: message.from, to: message.to }, 'dropping a raft message with a wrong envelope');
      return;
    }
    try {
      this.node.step(message);
    } catch (error) {
      if (error instanceof RaftError && error.code === RaftErrorCode.BadMessage) {
        this.logger.warn({ err: error, from }, 'dropping a malformed raft message');
        return;
      }
      this.halt(error);
      return;
    }
    this.scheduleDrive();
  }

  /** Runs the next Ready on a later turn, so that everything arriving meanwhile joins it. */
  private scheduleDrive(): void {
    if (this.driveScheduled || this.stopped) return;
    this.driveScheduled = true;
    setImmediate(() => {
      this.driveScheduled = false;
      this.drive();
    });
  }

  private drive(): void {
    if (this.stopped || this.inFlight !== undefined) return;
    this.proposals.syncLeadership(this.node);
    if (this.snapshots.due(this.applied)) {
      this.run(this.takeSnapshot());
      return;
    }
    if (!this.node.hasReady()) return;
    let ready: Ready;
    try {
      ready = this.node.ready();
    } catch (error) {
      this.halt(error);
      return;
    }
    this.readies++;
    if (ready.softState !== undefined) this.noteSoftState(ready.softState.role, ready.softState.leader);
    this.send(ready.messages);
    this.run(this.carryOut(ready));
  }

  /** One task at a time: a Ready, or a snapshot between Readies. */
  private run(task: Promise<void>): void {
    this.inFlight = task.then(
      () => {
        this.inFlight = undefined;
        this.scheduleDrive();
      },
      (error: unknown) => {
        this.inFlight = undefined;
        this.halt(error);
      },
    );
  }

  private noteSoftState(role: Role, leader: string): void {
    if (leader !== '' && leader !== this.lastLeader) this.leadershipChanges++;
    if (leader !== '') this.lastLeader = leader;
    this.trace?.record({ type: 'role', role, term: this.node.term, leader });
    this.emit({ type: 'role', role, leader, term: this.node.term });
  }

  private async carryOut(ready: Ready): Promise<void> {
    // Committed entries this node already holds durably (written by an earlier Ready) are applied
    // while this Ready's write is in flight, as etcd does: they are on a majority and on our own
    // disk, so nothing this write does can change them. That keeps an fsync out of the commit
    // latency. Committed entries that arrive with this very write wait for it.
    const durableLast = this.storage.lastIndex();
    const split = countThrough(ready.committedEntries, durableLast);
    const early = split > 0 ? this.apply(ready.committedEntries.slice(0, split)) : undefined;
    const hasWrite = ready.snapshot !== undefined || ready.entries.length > 0 || ready.hardState !== undefined;
    const write = hasWrite ? this.storage.persist(ready) : undefined;
    await Promise.all([early, write]);
    if (write !== undefined) {
      this.persists++;
      this.entriesPersisted += ready.entries.length;
    }
    if (this.stopped) return;
    if (write !== undefined && this.trace !== undefined) this.tracePersisted(ready);
    this.send(ready.messagesAfterPersist);
    if (ready.snapshot !== undefined) await this.restoreSnapshot(ready.snapshot.meta, ready.snapshot.data);
    if (split < ready.committedEntries.length) await this.apply(ready.committedEntries.slice(split));
    if (ready.compactBefore !== undefined) {
      // Entries below compactBefore leave the log, the application's write-ahead log: its
      // store must hold their effects durably first.
      await this.syncStore(ready.compactBefore - 1);
      await this.storage.compact(ready.compactBefore);
    }
    if (this.stopped) return;
    this.node.advance();
    if (this.gateHeld && !this.node.catchingUp) {
      this.gateHeld = false;
      await this.storage.releaseCatchUpGate?.();
    }
  }

  private async restoreSnapshot(meta: SnapshotMeta, data: Uint8Array): Promise<void> {
    this.snapshots.restoring = true;
    try {
      await this.stateMachine.restore(data);
    } finally {
      this.snapshots.restoring = false;
    }
    this.applied = meta.index;
    this.snapshots.onInstalled(meta.index);
    // The snapshot itself is durable in Raft storage: a restart restores it again.
    this.storeSyncedThrough = Math.max(this.storeSyncedThrough, meta.index);
    this.proposals.snapshotRestored(meta.index);
    this.trace?.record({ type: 'snapshot', action: 'installed', index: meta.index, term: meta.term });
    this.emit({ type: 'snapshot', action: 'installed', index: meta.index });
    this.emit({ type: 'applied', index: this.applied });
  }

  private async apply(entries: readonly Entry[]): Promise<void> {
    const first = entries[0]!;
    assert(first.index === this.applied + 1, `${this.id}: applying ${first.index} after ${this.applied}`);
    const results = await this.stateMachine.apply(entries);
    if (!Array.isArray(results) || results.length !== entries.length) {
      const got = Array.isArray(results) ? `${results.length} results` : String(results);
      throw new RaftError(RaftErrorCode.StateMachineContract, `${this.id}: apply of ${entries.length} entries returned ${got}`);
    }
    this.applied = entries[entries.length - 1]!.index;
    this.entriesApplied += entries.length;
    this.proposals.applied(entries, results);
    this.trace?.record({ type: 'applied', entries });
    this.emit({ type: 'applied', index: this.applied });
  }

  /** Between Readies: the applied index is the core's, and nothing is applied meanwhile. */
  private async takeSnapshot(): Promise<void> {
    const waiters = this.snapshots.takeWaiters();
    if (this.applied === this.snapshots.lastIndex) {
      const latest = this.storage.snapshot()?.meta;
      const error = new RaftError(RaftErrorCode.BadSnapshot, `${this.id}: nothing applied to snapshot yet`);
      for (const waiter of waiters) {
        if (latest !== undefined) waiter.resolve(latest);
        else waiter.reject(error);
      }
      return;
    }
    this.snapshots.taking = true;
    try {
      const meta = await this.snapshotApplied();
      for (const waiter of waiters) waiter.resolve(meta);
    } catch (error) {
      for (const waiter of waiters) waiter.reject(error as Error);
      throw error;
    } finally {
      this.snapshots.taking = false;
    }
  }

  private async snapshotApplied(): Promise<SnapshotMeta> {
    const meta = this.node.snapshotMetaAt(this.applied);
    const data = await this.stateMachine.snapshot();
    await this.syncStore(meta.index);
    await this.storage.saveSnapshot({ meta, data });
    this.snapshots.onTaken(meta.index);
    if (!this.stopped) this.node.snapshotTaken(meta);
    this.trace?.record({ type: 'snapshot', action: 'taken', index: meta.index, term: meta.term });
    this.emit({ type: 'snapshot', action: 'taken', index: meta.index });
    return meta;
  }

  /** The application's store holds every effect up to `index` durably (if it says it can). */
  private async syncStore(index: number): Promise<void> {
    if (index <= this.storeSyncedThrough) return;
    if (this.stateMachine.sync !== undefined) await this.stateMachine.sync(index);
    this.storeSyncedThrough = index;
  }

  private send(messages: readonly Message[]): void {
    if (this.trace !== undefined) this.traceLead(messages);
    for (const message of messages) this.transport.send(message.to, message);
  }

  /** Test hook: the first AppendEntries or heartbeat of each term this node sends as leader. */
  private traceLead(messages: readonly Message[]): void {
    for (const message of messages) {
      if ((message.type === 'append' || message.type === 'heartbeat') && message.term > this.tracedLeadTerm) {
        this.tracedLeadTerm = message.term;
        this.trace?.record({ type: 'lead', term: message.term });
      }
    }
  }

  /** Test hook: what a Ready made durable, before the messages that depend on it leave. */
  private tracePersisted(ready: Ready): void {
    this.trace?.record({
      type: 'persisted',
      mustSync: ready.mustSync,
      entries: ready.entries,
      ...(ready.hardState !== undefined ? { hardState: ready.hardState } : {}),
      ...(ready.snapshot !== undefined ? { snapshot: { index: ready.snapshot.meta.index, term: ready.snapshot.meta.term } } : {}),
    });
  }

  private halt(error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.failure = error;
    if (this.timer !== undefined) clearInterval(this.timer);
    // A full disk is an operating condition the owner reports in one line (src/cli/main.ts).
    if (error !== undefined && findDiskFull(error) !== undefined) this.logger.warn({ err: error }, 'raft node stopped: a write failed for lack of space');
    else if (error !== undefined) this.logger.error({ err: error }, 'raft node stopped on an error');
    const reason = this.stoppedError();
    this.proposals.stopped(reason);
    this.snapshots.rejectAll(reason);
    this.trace?.record(error === undefined ? { type: 'stopped' } : { type: 'stopped', error: String(error) });
    this.emit(error === undefined ? { type: 'stopped' } : { type: 'stopped', error });
    if (error !== undefined) void this.transport.close();
  }

  private stoppedError(): RaftError {
    return new RaftError(RaftErrorCode.Stopped, `raft node ${this.id} is stopped`, { cause: this.failure });
  }

  private refuseIfStopped(): ProposalRefusedError | undefined {
    if (!this.stopped) return undefined;
    return new ProposalRefusedError(RefusalReason.Stopped, `raft node ${this.id} is stopped`, { cause: this.stoppedError() });
  }

  private emit(event: RaftDriverEvent): void {
    this.events.emit(event);
  }
}

/** How many of `entries` (in index order) are at or below `index`. */
function countThrough(entries: readonly Entry[], index: number): number {
  let count = 0;
  while (count < entries.length && entries[count]!.index <= index) count++;
  return count;
}
