// The Raft state machine: terms, roles, elections (PreVote, CheckQuorum, leader lease), and the
// dispatch of messages to the leader (leader.ts) and follower (follower.ts) rules. Pure: no clock,
// no randomness but the injected source, no I/O; everything it wants done is left in `outbox`
// and in the log's unstable part for the RawNode to hand out as a Ready.
import type { Entry, HardState } from './types.js';
import type { Message, SnapshotMeta } from './messages.js';
import type { RaftOptions, ResolvedRaftOptions } from './options.js';
import type { RaftStorage } from './storage.js';
import { resolveRaftOptions } from './options.js';
import { RaftLog } from './log.js';
import { ConfigTracker } from './config-tracker.js';
import { Progress } from './progress.js';
import { tallyVotes, VoteResult } from './quorum.js';
import { NotLeaderError, ProposalRefusedError, RaftError, RaftErrorCode, RefusalReason } from './errors.js';
import { CatchUpGate } from './catch-up-gate.js';
import { validateMessage } from './validate.js';
import { assert } from '../util/assert.js';
import { stepLeader, tickLeader, broadcastAppend, appendNoopAsLeader, maybeCommit } from './leader.js';
import { stepFollower } from './follower.js';
import type { SnapshotReceipt } from './follower.js';

export const Role = {
  Follower: 'follower',
  PreCandidate: 'preCandidate',
  Candidate: 'candidate',
  Leader: 'leader',
} as const;
export type Role = (typeof Role)[keyof typeof Role];

/** Facts about this start of the node (not options: they describe its state, not its tuning). */
export interface RaftStartup {
  /** The index the application's state already reflects (default: the snapshot's index). */
  readonly applied?: number;
  /**
   * This node's Raft state was lost (empty log and hard state while the cluster exists): it
   * must not vote or campaign until it has caught up (see catch-up-gate.ts).
   */
  readonly rejoining?: boolean;
}

/** Counters for operators: how often this node did what. */
export interface RaftCounters {
  preElectionsStarted: number;
  electionsStarted: number;
}

/** Messages as the core emits them, before the envelope's `from` is filled in. */
export type OutgoingMessage = Message extends infer M ? (M extends Message ? Omit<M, 'from'> : never) : never;

export class Raft {
  readonly id: string;
  readonly options: ResolvedRaftOptions;
  readonly log: RaftLog;
  readonly configs: ConfigTracker;
  term = 0;
  vote = '';
  leader = '';
  role: Role = Role.Follower;
  /** Leader only: one entry per member of the current configuration, itself included. */
  progress = new Map<string, Progress>();
  votes = new Map<string, boolean>();
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTicks = 0;
  /** Leader only: the target of a leadership transfer in progress, or ''. */
  transferee = '';
  /** Leader: proposals were appended since the last broadcast of AppendEntries. */
  appendsPending = false;
  /** Entries below this index may be deleted once the Ready carrying it is handled. */
  compactBefore = 0;
  readonly outbox: Message[] = [];
  /** Follower only: a snapshot arriving in chunks. */
  snapshotReceipt: SnapshotReceipt | undefined;
  /** Started in rejoin mode: the gate that holds its votes until it has caught up. */
  readonly catchUpGate: CatchUpGate | undefined;
  /** The highest index known to match the current term's leader's log (reset with the term). */
  matchedInTerm = 0;
  /** The highest commit index heard from a leader (followers; for readiness). */
  leaderCommit = 0;
  readonly counters: RaftCounters = { preElectionsStarted: 0, electionsStarted: 0 };

  constructor(
    options: RaftOptions,
    readonly storage: RaftStorage,
    startup: RaftStartup = {},
  ) {
    this.options = resolveRaftOptions(options);
    this.id = this.options.id;
    const { hardState, snapshotMeta } = storage.initialState();
    const snapshotIndex = snapshotMeta?.index ?? 0;
    const commit = Math.max(hardState.commit, snapshotIndex);
    this.log = new RaftLog(storage, this.options.logCacheSize, commit, startup.applied ?? snapshotIndex, this.options.logCacheBytesMax);
    this.catchUpGate = startup.rejoining === true ? new CatchUpGate() : undefined;
    this.configs = snapshotMeta ? new ConfigTracker(snapshotMeta.index, snapshotMeta.config) : new ConfigTracker();
    this.loadConfigsFromLog(snapshotIndex + 1);
    this.term = hardState.term;
    this.vote = hardState.vote;
    this.resetRandomizedElectionTicks();
  }

  private loadConfigsFromLog(from: number): void {
    let index = Math.max(from, this.log.firstIndex());
    const last = this.log.lastIndex();
    while (index <= last) {
      const entries = this.log.entries(index, last + 1, 4096, Number.MAX_SAFE_INTEGER) ?? [];
      assert(entries.length > 0, `log entries from ${index} unreadable at startup`);
      this.configs.onAppend(entries);
      index += entries.length;
    }
  }

  /** Send the batched proposals to every follower whose window allows it. */
  flushAppends(): void {
    if (!this.appendsPending) return;
    this.appendsPending = false;
    if (this.role === Role.Leader) broadcastAppend(this);
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  isVoter(id = this.id): boolean {
    return this.configs.current().voters.includes(id);
  }

  send(message: OutgoingMessage): void {
    this.outbox.push({ ...message, from: this.id } as Message);
  }

  resetRandomizedElectionTicks(): void {
    const base = this.options.electionTicks;
    this.randomizedElectionTicks = base + this.options.random.nextInt(base + 1);
  }

  private reset(term: number): void {
    assert(term >= this.term, `term would go back from ${this.term} to ${term}`);
    if (term !== this.term) {
      this.term = term;
      this.vote = '';
      // One leader per term: what matched this term's leader still does within the term.
      this.matchedInTerm = 0;
    }
    this.leader = '';
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTicks();
    this.votes.clear();
    this.transferee = '';
    this.progress.clear();
  }

  setVote(candidate: string): void {
    assert(
      this.options.bugs.doubleVote === true || this.vote === '' || this.vote === candidate,
      `second vote in term ${this.term}: had ${this.vote}, now ${candidate}`,
    );
    this.vote = candidate;
  }

  becomeFollower(term: number, leader: string): void {
    this.reset(term);
    this.role = Role.Follower;
    this.leader = leader;
  }

  private becomePreCandidate(): void {
    assert(this.role !== Role.Leader, 'a leader cannot become a pre-candidate');
    // PreVote changes neither term nor vote, so that a refused pre-candidate disturbs nobody.
    this.role = Role.PreCandidate;
    this.votes.clear();
    this.leader = '';
    this.counters.preElectionsStarted++;
  }

  private becomeCandidate(): void {
    assert(this.role !== Role.Leader, 'a leader cannot become a candidate');
    this.reset(this.term + 1);
    this.setVote(this.id);
    this.role = Role.Candidate;
    this.counters.electionsStarted++;
  }

  becomeLeader(): void {
    assert(this.role === Role.Candidate, `only a candidate becomes leader, not a ${this.role}`);
    const term = this.term;
    this.reset(term);
    this.role = Role.Leader;
    this.leader = this.id;
    this.syncProgress();
    const self = this.progress.get(this.id);
    if (self) self.maybeUpdate(this.log.durableLastIndex());
    this.options.logger?.info({ id: this.id, term }, 'raft: became leader');
    appendNoopAsLeader(this);
  }

  /** Create progress for new members (probing from `next`) and drop removed ones (leader only). */
  syncProgress(next = this.log.lastIndex() + 1): void {
    const config = this.configs.current();
    const wanted = new Set([...config.voters, ...config.nonVoters]);
    for (const id of [...this.progress.keys()]) if (!wanted.has(id)) this.progress.delete(id);
    for (const id of wanted) {
      if (this.progress.has(id)) continue;
      const progress = new Progress(next, this.options.inflightMessagesMax, this.options.inflightBytesMax);
      progress.recentActive = true;
      this.progress.set(id, progress);
    }
    if (this.transferee !== '' && !config.voters.includes(this.transferee)) this.transferee = '';
  }

  /** Append to the log and track any config-change entries among them. */
  appendToLog(entries: readonly Entry[]): void {
    this.log.append(entries);
    this.configs.onAppend(entries);
    // A member added by these entries is probed from the first of them, so it receives them.
    if (this.role === Role.Leader) this.syncProgress(entries[0]?.index);
  }

  tick(): void {
    if (this.role === Role.Leader) {
      tickLeader(this);
      return;
    }
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTicks) {
      this.electionElapsed = 0;
      this.campaign(this.options.preVote ? 'preVote' : 'vote');
    }
  }

  /** A voter with no snapshot waiting to be persisted may campaign, unless it is catching up. */
  promotable(): boolean {
    return this.isVoter() && this.log.pendingSnapshot() === undefined && !this.gated();
  }

  /** Whether the catch-up gate holds this node's votes and campaigns. */
  gated(): boolean {
    return this.catchUpGate?.closed === true && this.options.bugs.skipCatchUpGate !== true;
  }

  /** A leader of the current term reported its commit index; the gate may open. */
  onLeaderCommit(commit: number): void {
    if (commit > this.leaderCommit) this.leaderCommit = commit;
    const gate = this.catchUpGate;
    if (gate === undefined || !gate.closed) return;
    gate.onLeaderCommit(commit);
    const committed = this.log.committed;
    if (gate.maybeOpen(this.leader, this.term, committed, this.log.term(committed))) {
      this.options.logger?.info({ id: this.id, term: this.term, commit: committed }, 'raft: caught up after rejoining; may vote again');
    }
  }

  campaign(kind: 'preVote' | 'vote' | 'transfer'): void {
    if (!this.promotable()) return;
    if (kind === 'preVote') this.becomePreCandidate();
    else this.becomeCandidate();
    const voteTerm = kind === 'preVote' ? this.term + 1 : this.term;
    this.votes.set(this.id, true);
    if (this.checkElection() !== VoteResult.Pending) return;
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const to of this.configs.current().voters) {
      if (to === this.id) continue;
      if (kind === 'preVote') this.send({ type: 'preVote', to, term: voteTerm, lastIndex, lastTerm });
      else this.send({ type: 'vote', to, term: voteTerm, lastIndex, lastTerm, transfer: kind === 'transfer' });
    }
  }

  /** Act on the votes counted so far; returns the outcome. */
  private checkElection(): VoteResult {
    const result = tallyVotes(this.configs.current().voters, this.votes);
    if (result === VoteResult.Won) {
      if (this.role === Role.PreCandidate) this.campaign('vote');
      else this.becomeLeader();
    } else if (result === VoteResult.Lost) {
      this.becomeFollower(this.term, '');
    }
    return result;
  }

  step(message: Message): void {
    validateMessage(message, this.id);
    if (message.term > this.term) {
      if (!this.stepHigherTerm(message)) return;
    } else if (message.term < this.term) {
      this.stepLowerTerm(message);
      return;
    }
    switch (message.type) {
      case 'preVote':
      case 'vote':
        this.handleVoteRequest(message);
        return;
      case 'preVoteResponse':
      case 'voteResponse':
        this.handleVoteResponse(message);
        return;
      default:
        if (this.role === Role.Leader) stepLeader(this, message);
        else stepFollower(this, message);
    }
  }

  /** Returns whether the message should be processed further. */
  private stepHigherTerm(message: Message): boolean {
    const isVoteRequest = message.type === 'vote' || message.type === 'preVote';
    if (isVoteRequest) {
      const transfer = message.type === 'vote' && message.transfer;
      const inLease = this.options.checkQuorum && this.leader !== '' && this.electionElapsed < this.options.electionTicks;
      // Leader stickiness: while we hear from a live leader, a higher-term candidate is ignored.
      if (inLease && !transfer) return false;
    }
    if (message.type === 'preVote') return true;
    if (message.type === 'preVoteResponse' && !message.reject) return true;
    const fromLeader = message.type === 'append' || message.type === 'heartbeat' || message.type === 'installSnapshot';
    this.becomeFollower(message.term, fromLeader ? message.from : '');
    return true;
  }

  private stepLowerTerm(message: Message): void {
    const fromLeader = message.type === 'append' || message.type === 'heartbeat' || message.type === 'installSnapshot';
    if (fromLeader && (this.options.checkQuorum || this.options.preVote)) {
      // Tell a stale leader about the newer term so that it steps down.
      this.send({ type: 'heartbeatResponse', to: message.from, term: this.term });
    } else if (message.type === 'preVote') {
      this.send({ type: 'preVoteResponse', to: message.from, term: this.term, reject: true });
    }
  }

  private handleVoteRequest(message: Extract<Message, { type: 'preVote' | 'vote' }>): void {
    const isPreVote = message.type === 'preVote';
    // A node catching up after losing its state votes for nobody (catch-up-gate.ts).
    const canVote =
      !this.gated() &&
      (this.vote === message.from ||
        (this.vote === '' && this.leader === '') ||
        (isPreVote && message.term > this.term) ||
        (this.options.bugs.doubleVote === true && !isPreVote && this.role !== Role.Leader));
    const responseType = isPreVote ? 'preVoteResponse' : 'voteResponse';
    if (canVote && this.log.isUpToDate(message.lastIndex, message.lastTerm)) {
      this.send({ type: responseType, to: message.from, term: message.term, reject: false });
      if (!isPreVote) {
        this.electionElapsed = 0;
        this.setVote(message.from);
      }
    } else {
      this.send({ type: responseType, to: message.from, term: this.term, reject: true });
    }
  }

  private handleVoteResponse(message: Extract<Message, { type: 'preVoteResponse' | 'voteResponse' }>): void {
    const expected = message.type === 'preVoteResponse' ? Role.PreCandidate : Role.Candidate;
    if (this.role !== expected) return;
    this.votes.set(message.from, !message.reject);
    this.checkElection();
  }

  /** Entries up to the log's durable index are on this node's disk: the leader counts itself. */
  onLocalPersisted(): void {
    if (this.role !== Role.Leader) return;
    const self = this.progress.get(this.id);
    if (self?.maybeUpdate(this.log.durableLastIndex())) maybeCommit(this);
  }

  propose(entry: Omit<Entry, 'index' | 'term'>): number {
    if (this.role !== Role.Leader) {
      throw new NotLeaderError(this.leader, `node ${this.id} is not the leader (leader: ${this.leader || 'unknown'})`);
    }
    if (this.transferee !== '') {
      throw new ProposalRefusedError(RefusalReason.TransferInProgress, `leadership is being transferred to ${this.transferee}`);
    }
    if (entry.data.byteLength > this.options.proposalBytesMax) {
      const text = `proposal of ${entry.data.byteLength} bytes exceeds ${this.options.proposalBytesMax}`;
      throw new ProposalRefusedError(RefusalReason.TooLarge, text);
    }
    if (this.log.lastIndex() - this.log.committed >= this.options.uncommittedEntriesMax) {
      throw new ProposalRefusedError(RefusalReason.BackPressure, `${this.options.uncommittedEntriesMax} entries are already uncommitted`);
    }
    const index = this.log.lastIndex() + 1;
    this.appendToLog([{ index, term: this.term, type: entry.type, data: entry.data }]);
    // Proposals of one event-loop turn go out together when the driver next takes a Ready.
    this.appendsPending = true;
    return index;
  }

  /** Position and membership of a snapshot the application takes at `index` (≤ applied). */
  snapshotMetaAt(index: number): SnapshotMeta {
    const term = this.log.term(index);
    const config = this.configs.at(index);
    if (index > this.log.applied || term === undefined || config === undefined) {
      throw new RaftError(RaftErrorCode.BadSnapshot, `cannot snapshot at ${index} (applied ${this.log.applied}, first ${this.log.firstIndex()})`);
    }
    return { index, term, config };
  }

  /** The application's snapshot at `meta.index` is durable: compact, keeping trailing entries. */
  snapshotTaken(meta: SnapshotMeta): void {
    const target = Math.min(meta.index - this.options.trailingLogs + 1, this.log.durableLastIndex() + 1);
    if (target > this.log.firstIndex() && target > this.compactBefore) this.compactBefore = target;
  }
}
