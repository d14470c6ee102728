// RaftNode (etcd's RawNode): the API a driver uses. Feed it ticks, messages and proposals; take
// a Ready, carry it out in the order its fields state, then call advance. The durability order
// is data: `messages` may leave at once (a leader's appends go out while its own write is in
// flight), `messagesAfterPersist` only once snapshot, entries and hard state are fsynced. One
// Ready is outstanding at a time; while it is being persisted, takeMessages() hands out what
// needs no persistence, and the leader counts its own entries only at advance().
import type { Entry, HardState } from './types.js';
import type { ClusterConfig, Message, Snapshot, SnapshotMeta } from './messages.js';
import type { RaftOptions } from './options.js';
import type { RaftStorage } from './storage.js';
import type { ConfigChange } from './membership.js';
import type { ProgressState } from './progress.js';
import { EntryType } from './types.js';
import { needsPersistBeforeSend } from './messages.js';
import { Raft, Role } from './raft.js';
import type { RaftCounters } from './raft.js';
import { proposeConfigChange, transferLeadership } from './leader-membership.js';
import { ProgressState as ProgressStates } from './progress.js';
import { RaftError, RaftErrorCode } from './errors.js';
import { assert } from '../util/assert.js';

export interface SoftState {
  readonly role: Role;
  readonly leader: string;
}

export interface Ready {
  /** Changed role or leader, for the application's information (not persisted). */
  readonly softState?: SoftState;
  /** 1. A snapshot received from the leader: persist it, replacing the whole log. */
  readonly snapshot?: Snapshot;
  /** 2. Append these, first deleting any stored entry at or after entries[0].index. */
  readonly entries: readonly Entry[];
  /** 3. Persist this term, vote and commit (after the entries, in the same write). */
  readonly hardState?: HardState;
  /** Whether 1–3 hold anything that needs an fsync before `messagesAfterPersist` leave. */
  readonly mustSync: boolean;
  /** May be sent now, before or while 1–3 are written. */
  readonly messages: readonly Message[];
  /** May be sent only after 1–3 are durable: votes, append and snapshot responses. */
  readonly messagesAfterPersist: readonly Message[];
  /** Apply in order, after 1–3 are durable. */
  readonly committedEntries: readonly Entry[];
  /** Once the snapshot it follows from is durable, entries below this may be deleted. */
  readonly compactBefore?: number;
}

/** The leader's view of one member (itself included). */
export interface PeerProgress {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly inflight: number;
  /** Heard from since the last CheckQuorum round. */
  readonly recentActive: boolean;
}

export interface RaftNodeStatus {
  readonly id: string;
  readonly role: Role;
  readonly term: number;
  readonly vote: string;
  readonly leader: string;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly config: ClusterConfig;
  /** Leader only: one entry per member, itself included. */
  readonly progress: ReadonlyMap<string, PeerProgress>;
  /** The highest commit index heard from a leader (this node's own commit while it leads). */
  readonly leaderCommit: number;
  /** Started in rejoin mode and not yet caught up: it neither votes nor campaigns. */
  readonly catchingUp: boolean;
  /** Leader: members being sent a snapshot. */
  readonly snapshotsSending: readonly string[];
  /** Follower: a snapshot is arriving in chunks or waits to be persisted. */
  readonly snapshotReceiving: boolean;
  readonly counters: Readonly<RaftCounters>;
}

export interface RaftNodeOptions extends RaftOptions {
  readonly storage: RaftStorage;
  /** The index the application's state already reflects (default: the snapshot's index). */
  readonly applied?: number;
  /**
   * This node's Raft state was lost (its log and hard state are empty while the cluster exists,
   * as the application's startup decides): it neither votes nor campaigns until it has caught
   * up with a leader. Nothing of this is persisted: a restart before then must pass it again.
   */
  readonly rejoining?: boolean;
}

export class RaftNode {
  private readonly raft: Raft;
  private previousHardState: HardState;
  private previousSoftState: SoftState;
  private outstanding: Ready | undefined;

  constructor(options: RaftNodeOptions) {
    this.raft = new Raft(options, options.storage, {
      ...(options.applied !== undefined ? { applied: options.applied } : {}),
      ...(options.rejoining !== undefined ? { rejoining: options.rejoining } : {}),
    });
    this.previousHardState = this.raft.hardState();
    this.previousSoftState = { role: this.raft.role, leader: this.raft.leader };
  }

  get id(): string {
    return this.raft.id;
  }

  get role(): Role {
    return this.raft.role;
  }

  get term(): number {
    return this.raft.term;
  }

  get leader(): string {
    return this.raft.leader;
  }

  get commit(): number {
    return this.raft.log.committed;
  }

  /** Started in rejoin mode and not caught up yet: it neither votes nor campaigns. */
  get catchingUp(): boolean {
    return this.raft.catchUpGate?.closed === true;
  }

  tick(): void {
    this.raft.tick();
  }

  /** Hand a message from a peer to the core. Malformed input throws RAFT_BAD_MESSAGE. */
  step(message: Message): void {
    this.raft.step(message);
  }

  /** Start an election now (tests, and operators forcing one). */
  campaign(): void {
    this.raft.campaign(this.raft.options.preVote ? 'preVote' : 'vote');
  }

  /** Append a proposal; returns its index. The entry is committed when it shows up in a Ready. */
  propose(data: Uint8Array): number {
    return this.raft.propose({ type: EntryType.Normal, data });
  }

  proposeConfigChange(change: ConfigChange): number {
    return proposeConfigChange(this.raft, change);
  }

  transferLeadership(target: string): void {
    transferLeadership(this.raft, target);
  }

  snapshotMetaAt(index: number): SnapshotMeta {
    return this.raft.snapshotMetaAt(index);
  }

  /** The application's snapshot at meta.index is durable and served by storage.snapshot(). */
  snapshotTaken(meta: SnapshotMeta): void {
    this.raft.snapshotTaken(meta);
  }

  /** The term of the entry at `index` in this node's log, if present (for tests and checkers). */
  termAt(index: number): number | undefined {
    return this.raft.log.term(index);
  }

  /** Entries [low, high) of this node's log (for tests, checkers and debugging). */
  entriesBetween(low: number, high: number): readonly Entry[] | undefined {
    return this.raft.log.entries(low, high, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  }

  logStats(): { cacheHits: number; storageReads: number } {
    return { ...this.raft.log.stats };
  }

  status(): RaftNodeStatus {
    const r = this.raft;
    const progress = new Map<string, PeerProgress>();
    const snapshotsSending: string[] = [];
    for (const [id, item] of r.progress) {
      progress.set(id, { match: item.match, next: item.next, state: item.state, inflight: item.inflights.count(), recentActive: item.recentActive });
      if (item.state === ProgressStates.Snapshot) snapshotsSending.push(id);
    }
    return {
      id: r.id,
      role: r.role,
      term: r.term,
      vote: r.vote,
      leader: r.leader,
      commit: r.log.committed,
      applied: r.log.applied,
      firstIndex: r.log.firstIndex(),
      lastIndex: r.log.lastIndex(),
      config: r.configs.current(),
      progress,
      leaderCommit: r.role === Role.Leader ? r.log.committed : r.leaderCommit,
      catchingUp: r.catchUpGate?.closed === true,
      snapshotsSending,
      snapshotReceiving: r.snapshotReceipt !== undefined || r.log.pendingSnapshot() !== undefined,
      counters: { ...r.counters },
    };
  }

  hasReady(): boolean {
    if (this.outstanding) return false;
    const r = this.raft;
    return (
      r.appendsPending ||
      r.outbox.length > 0 ||
      r.log.unstableEntries().length > 0 ||
      r.log.pendingSnapshot() !== undefined ||
      r.log.hasNextCommittedEntries() ||
      r.compactBefore > 0 ||
      !sameHardState(r.hardState(), this.previousHardState) ||
      r.role !== this.previousSoftState.role ||
      r.leader !== this.previousSoftState.leader
    );
  }

  /** What to persist, send and apply now. Call advance() once it is carried out. */
  ready(): Ready {
    if (this.outstanding) throw new RaftError(RaftErrorCode.ReadyMisuse, 'ready() called before advance() of the previous Ready');
    const r = this.raft;
    r.flushAppends();
    const hardState = r.hardState();
    assert(hardState.term >= this.previousHardState.term, `term went back from ${this.previousHardState.term} to ${hardState.term}`);
    assert(hardState.commit >= this.previousHardState.commit, `commit went back from ${this.previousHardState.commit} to ${hardState.commit}`);
    const messages = this.takeMessages();
    const messagesAfterPersist = r.outbox.splice(0);
    const snapshot = r.log.pendingSnapshot();
    const entries = [...r.log.unstableEntries()];
    const hardStateChanged = !sameHardState(hardState, this.previousHardState);
    const softChanged = r.role !== this.previousSoftState.role || r.leader !== this.previousSoftState.leader;
    const ready: Ready = {
      entries,
      mustSync: snapshot !== undefined || entries.length > 0 || (hardStateChanged && hardState.vote !== this.previousHardState.vote) || hardState.term !== this.previousHardState.term,
      messages,
      messagesAfterPersist,
      committedEntries: r.log.nextCommittedEntries(r.options.committedEntriesMax, r.options.appendBytesMax * 4),
      ...(softChanged ? { softState: { role: r.role, leader: r.leader } } : {}),
      ...(snapshot ? { snapshot } : {}),
      ...(hardStateChanged ? { hardState } : {}),
      ...(r.compactBefore > 0 ? { compactBefore: r.compactBefore } : {}),
    };
    this.outstanding = ready;
    return ready;
  }

  /**
   * Messages that depend on nothing being persisted (a leader's appends and heartbeats,
   * pre-votes), available even while a Ready is being persisted: a leader keeps replicating
   * while its own fsync is in flight (thesis §10.2.1). The rest wait for the next Ready.
   */
  takeMessages(): Message[] {
    const r = this.raft;
    r.flushAppends();
    const now: Message[] = [];
    const later: Message[] = [];
    const ackEarly = r.options.bugs.ackBeforeDurable === true;
    for (const message of r.outbox) {
      const early = ackEarly && message.type === 'appendResponse';
      (needsPersistBeforeSend(message) && !early ? later : now).push(message);
    }
    r.outbox.length = 0;
    r.outbox.push(...later);
    return now;
  }

  /** The Ready returned by ready() has been carried out: persisted, sent and applied. */
  advance(): void {
    const ready = this.outstanding;
    if (!ready) throw new RaftError(RaftErrorCode.ReadyMisuse, 'advance() called without an outstanding Ready');
    const r = this.raft;
    this.outstanding = undefined;
    if (ready.hardState) this.previousHardState = ready.hardState;
    if (ready.softState) this.previousSoftState = ready.softState;
    if (ready.snapshot) {
      r.log.stableSnapshotTo(ready.snapshot.meta.index);
      r.log.appliedTo(ready.snapshot.meta.index);
    }
    const lastEntry = ready.entries[ready.entries.length - 1];
    if (lastEntry) {
      r.log.stableTo(lastEntry.index, lastEntry.term);
      r.onLocalPersisted();
    }
    const lastApplied = ready.committedEntries[ready.committedEntries.length - 1];
    if (lastApplied) r.log.appliedTo(lastApplied.index);
    if (ready.compactBefore !== undefined) {
      r.log.compacted(ready.compactBefore);
      if (r.compactBefore === ready.compactBefore) r.compactBefore = 0;
    }
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
