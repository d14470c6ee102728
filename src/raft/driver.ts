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
//      snapshot, then advance().
// A failure of storage or of an invariant stops the node: it is not left running on a state it
// can no longer vouch for.

import type { Logger } from '../util/logger.js';
import { silentLogger } from '../util/logger.js';
import { TstanError } from '../util/errors.js';
import type { Entry } from './types.js';
import type { ClusterConfig, Message } from './messages.js';
import type { RaftOptions, RandomSource } from './options.js';
import { RaftNode, type Ready, type RaftNodeStatus } from './node.js';
import type { Role } from './raft.js';
import { RaftError, RaftErrorCode } from './errors.js';
import type { RaftTransport } from './transport.js';
import type { DurableStorage } from './storage.js';

/** The replicated application. Apply must be deterministic: every node applies the same entries. */
export interface RaftStateMachine {
  /** Committed entries, in log order, each exactly once per incarnation (after restore). */
  apply(entries: readonly Entry[]): void | Promise<void>;
  /** The state as of the last applied entry. */
  snapshot(): Uint8Array | Promise<Uint8Array>;
  /** Replaces the state by a snapshot's. */
  restore(data: Uint8Array): void | Promise<void>;
}

export type RaftDriverEvent =
  | { readonly type: 'role'; readonly role: Role; readonly leader: string; readonly term: number }
  | { readonly type: 'applied'; readonly index: number }
  | { readonly type: 'stopped'; readonly error?: unknown };

export interface RaftDriverOptions {
  readonly id: string;
  readonly storage: DurableStorage;
  readonly transport: RaftTransport<Message>;
  readonly stateMachine: RaftStateMachine;
  /** Founding voters: written into an empty log on first start (ignored when the log has state). */
  readonly bootstrap?: ClusterConfig;
  /** Length of one core tick (default 100 ms). */
  readonly tickMs?: number;
  /** Take an application snapshot after this many applied entries (default 8192). */
  readonly snapshotEveryEntries?: number;
  /** Options of the core (election and heartbeat ticks, batch bounds, trailing logs...). */
  readonly raft?: Omit<RaftOptions, 'id' | 'random' | 'logger'>;
  /** Seeded election jitter; defaults to Math.random (the driver is the one impure file). */
  readonly random?: RandomSource;
  readonly logger?: Logger;
}

export interface RaftDriverStats {
  readonly readies: number;
  readonly persists: number;
  readonly syncs: number;
  readonly entriesPersisted: number;
  readonly entriesApplied: number;
  readonly proposalsCommitted: number;
}

interface PendingProposal {
  readonly term: number;
  readonly resolve: (index: number) => void;
  readonly reject: (error: Error) => void;
}

const mathRandom: RandomSource = { nextInt: (maxExclusive) => Math.floor(Math.random() * maxExclusive) };

export class RaftDriver {
  readonly id: string;
  private readonly node: RaftNode;
  private readonly storage: DurableStorage;
  private readonly transport: RaftTransport<Message>;
  private readonly stateMachine: RaftStateMachine;
  private readonly logger: Logger;
  private readonly snapshotEveryEntries: number;
  private readonly pending = new Map<number, PendingProposal>();
  private readonly listeners = new Set<(event: RaftDriverEvent) => void>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private driveScheduled = false;
  private stopped = false;
  private closed = false;
  private failure: unknown = undefined;
  private applied: number;
  private lastSnapshotIndex: number;
  private readies = 0;
  private persists = 0;
  private entriesPersisted = 0;
  private entriesApplied = 0;
  private proposalsCommitted = 0;

  private constructor(options: RaftDriverOptions, node: RaftNode, applied: number) {
    this.id = options.id;
    this.node = node;
    this.storage = options.storage;
    this.transport = options.transport;
    this.stateMachine = options.stateMachine;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'raft-driver', node: options.id });
    this.snapshotEveryEntries = options.snapshotEveryEntries ?? 8192;
    this.applied = applied;
    this.lastSnapshotIndex = applied;
  }

  /** Restores the state machine from the newest snapshot, starts the core, the transport and the tick. */
  static async start(options: RaftDriverOptions): Promise<RaftDriver> {
    if (options.bootstrap !== undefined) await options.storage.bootstrap(options.bootstrap);
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
    });
    const driver = new RaftDriver(options, node, applied);
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

  status(): RaftNodeStatus {
    return this.node.status();
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
      proposalsCommitted: this.proposalsCommitted,
    };
  }

  onEvent(listener: (event: RaftDriverEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Proposes `data`; resolves with its index once it is committed and applied here. Rejects with
   * RAFT_NOT_LEADER on a follower, RAFT_PROPOSAL_DROPPED if another leader's entry took its place.
   */
  propose(data: Uint8Array): Promise<number> {
    if (this.stopped) return Promise.reject(this.stoppedError());
    let index: number;
    try {
      index = this.node.propose(data);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    this.scheduleDrive();
    // A proposal of an earlier term of ours may still wait at this index: this node lost the
    // leadership, its entry was cut, and it leads again. That entry can no longer commit.
    this.pending.get(index)?.reject(dropped(index));
    return new Promise<number>((resolve, reject) => {
      this.pending.set(index, { term: this.node.term, resolve, reject });
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
   * proposals still waiting are rejected, transport and storage are closed. With
   * `transferLeadershipMs`, a leader first hands over to its most up-to-date voter and waits (at
   * most that long) until it has stepped down, so the cluster need not wait out an election.
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

  private async handOverLeadership(timeoutMs: number): Promise<void> {
    if (this.stopped || this.node.role !== 'leader') return;
    const status = this.node.status();
    let target = '';
    let targetMatch = -1;
    for (const voter of status.config.voters) {
      const match = status.progress.get(voter)?.match ?? -1;
      if (voter !== this.id && match > targetMatch) {
        target = voter;
        targetMatch = match;
      }
    }
    if (target === '') return;
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
      const timer = setTimeout(finish, timeoutMs);
      const unsubscribe = this.onEvent((event) => {
        if (event.type === 'stopped' || (event.type === 'role' && event.role !== 'leader')) finish();
      });
    });
  }

  private tick(): void {
    if (this.stopped) return;
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
    if (this.stopped || this.inFlight !== undefined || !this.node.hasReady()) return;
    let ready: Ready;
    try {
      ready = this.node.ready();
    } catch (error) {
      this.halt(error);
      return;
    }
    this.readies++;
    if (ready.softState !== undefined) {
      this.emit({ type: 'role', role: ready.softState.role, leader: ready.softState.leader, term: this.node.term });
    }
    this.send(ready.messages);
    this.inFlight = this.carryOut(ready).then(
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
    this.send(ready.messagesAfterPersist);
    if (ready.snapshot !== undefined) {
      await this.stateMachine.restore(ready.snapshot.data);
      this.applied = ready.snapshot.meta.index;
      this.lastSnapshotIndex = this.applied;
      this.rejectPendingThrough(this.applied);
      this.emit({ type: 'applied', index: this.applied });
    }
    if (split < ready.committedEntries.length) await this.apply(ready.committedEntries.slice(split));
    if (ready.compactBefore !== undefined) await this.storage.compact(ready.compactBefore);
    if (this.stopped) return;
    this.node.advance();
    await this.maybeSnapshot();
  }

  private async apply(entries: readonly Entry[]): Promise<void> {
    const first = entries[0]!;
    if (first.index !== this.applied + 1) {
      throw new TstanError('RAFT_APPLY_GAP', `${this.id}: applying ${first.index} after ${this.applied}`);
    }
    await this.stateMachine.apply(entries);
    this.applied = entries[entries.length - 1]!.index;
    this.entriesApplied += entries.length;
    for (const entry of entries) this.settleProposal(entry);
    this.emit({ type: 'applied', index: this.applied });
  }

  private settleProposal(entry: Entry): void {
    const proposal = this.pending.get(entry.index);
    if (proposal === undefined) return;
    this.pending.delete(entry.index);
    if (proposal.term === entry.term) {
      this.proposalsCommitted++;
      proposal.resolve(entry.index);
    } else {
      proposal.reject(dropped(entry.index));
    }
  }

  private rejectPendingThrough(index: number): void {
    for (const [at, proposal] of this.pending) {
      if (at > index) continue;
      this.pending.delete(at);
      proposal.reject(dropped(at));
    }
  }

  private async maybeSnapshot(): Promise<void> {
    if (this.applied - this.lastSnapshotIndex < this.snapshotEveryEntries) return;
    const meta = this.node.snapshotMetaAt(this.applied);
    const data = await this.stateMachine.snapshot();
    await this.storage.saveSnapshot({ meta, data });
    this.lastSnapshotIndex = meta.index;
    if (!this.stopped) this.node.snapshotTaken(meta);
  }

  private send(messages: readonly Message[]): void {
    for (const message of messages) this.transport.send(message.to, message);
  }

  private halt(error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.failure = error;
    if (this.timer !== undefined) clearInterval(this.timer);
    if (error !== undefined) this.logger.error({ err: error }, 'raft node stopped on an error');
    const reason = this.stoppedError();
    for (const proposal of this.pending.values()) proposal.reject(reason);
    this.pending.clear();
    this.emit(error === undefined ? { type: 'stopped' } : { type: 'stopped', error });
    if (error !== undefined) void this.transport.close();
  }

  private stoppedError(): Error {
    return new TstanError('RAFT_STOPPED', `raft node ${this.id} is stopped`, { cause: this.failure });
  }

  private emit(event: RaftDriverEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error({ err: error }, 'raft driver listener threw');
      }
    }
  }
}

/** How many of `entries` (in index order) are at or below `index`. */
function countThrough(entries: readonly Entry[], index: number): number {
  let count = 0;
  while (count < entries.length && entries[count]!.index <= index) count++;
  return count;
}

function dropped(index: number): RaftError {
  return new RaftError(RaftErrorCode.ProposalDropped, `proposal at ${index} was replaced by another leader's entry`);
}
