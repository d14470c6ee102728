// One simulated node: the real RaftNode driven the way the production driver must drive it
// (persist, then send what waits for persistence, then apply, then advance), a simulated disk,
// and a tiny state machine whose state is a digest of everything applied.
import type { Entry } from '../../../src/raft/types.js';
import type { Message, Snapshot } from '../../../src/raft/messages.js';
import type { Ready } from '../../../src/raft/node.js';
import type { RaftBugSwitches } from '../../../src/raft/options.js';
import { RaftNode } from '../../../src/raft/node.js';
import { EntryType } from '../../../src/raft/types.js';
import { SimDisk } from './disk.js';
import { fnv, mixNumber } from './checker.js';
import type { Checker } from './checker.js';
import type { Rng } from './rng.js';
import type { SimOptions } from './options.js';

export interface NodeHost {
  readonly now: number;
  readonly checker: Checker;
  send(from: SimNode, messages: readonly Message[]): void;
  scheduleFsync(node: SimNode, incarnation: number): void;
  onNewLeader(node: SimNode): void;
  onCaughtUp(node: SimNode): void;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export class SimNode {
  readonly disk = new SimDisk();
  raft!: RaftNode;
  up = false;
  incarnation = 0;
  inFlight: Ready | undefined;
  applied = 0;
  digest = 0;
  lastSnapshotIndex = 0;
  leaderTermSeen = -1;
  commitSeen = 0;
  /** Its disk was wiped: it starts in rejoin mode until it has caught up (a restart before then too). */
  rejoining = false;
  /** Proposals made through this node in this incarnation, by index. */
  readonly proposed = new Map<number, string>();

  constructor(
    readonly id: string,
    private readonly host: NodeHost,
    private readonly options: SimOptions,
    private readonly rng: Rng,
    private readonly bugs: RaftBugSwitches,
  ) {}

  start(): void {
    const storage = this.disk.restartView();
    const snapshot = storage.snapshot();
    if (snapshot) this.restoreApp(snapshot);
    else {
      this.applied = 0;
      this.digest = 0;
    }
    this.lastSnapshotIndex = this.applied;
    this.raft = new RaftNode({
      id: this.id,
      storage,
      random: this.rng.fork(),
      applied: this.applied,
      logCacheSize: this.options.logCacheSize,
      trailingLogs: this.options.trailingLogs,
      appendEntriesMax: this.options.appendEntriesMax,
      inflightMessagesMax: this.options.inflightMessagesMax,
      snapshotChunkBytes: this.options.snapshotChunkBytes,
      promoteNonVoters: this.options.autoPromote,
      rejoining: this.rejoining,
      bugs: this.bugs,
    });
    this.up = true;
    this.inFlight = undefined;
    this.leaderTermSeen = -1;
    this.proposed.clear();
    this.host.checker.onDurableCommit(this.id, storage.initialState().hardState.commit);
  }

  crash(tornTails: boolean): void {
    this.up = false;
    this.incarnation++;
    this.inFlight = undefined;
    this.disk.crash(this.rng, tornTails);
  }

  /** Power failure, and the disk is replaced by an empty one. */
  wipe(tornTails: boolean): void {
    if (this.up) this.crash(tornTails);
    this.disk.wipe();
    this.rejoining = true;
    this.host.checker.onWipe(this.id);
  }

  /** Take and carry out Readies until one waits for an fsync or nothing is left. */
  drive(): void {
    this.noteLeadership();
    if (this.up && this.rejoining && !this.raft.catchingUp) {
      this.rejoining = false;
      this.host.onCaughtUp(this);
    }
    if (this.up && this.inFlight) this.host.send(this, this.raft.takeMessages());
    while (this.up && !this.inFlight && this.raft.hasReady()) {
      const ready = this.raft.ready();
      this.inFlight = ready;
      if (ready.snapshot) this.disk.write({ type: 'installSnapshot', snapshot: ready.snapshot });
      if (ready.entries.length > 0) {
        this.host.checker.onDurableEntries(this.id, ready.entries);
        this.disk.write({ type: 'append', entries: ready.entries });
      }
      if (ready.hardState) this.disk.write({ type: 'hardState', hardState: ready.hardState });
      if (ready.compactBefore !== undefined) this.disk.write({ type: 'compact', index: ready.compactBefore });
      this.host.send(this, ready.messages);
      if (ready.mustSync) {
        this.host.scheduleFsync(this, this.incarnation);
        return;
      }
      this.finishReady(false);
    }
  }

  /** The fsync of the Ready in flight completed. */
  onFsync(incarnation: number): void {
    if (!this.up || incarnation !== this.incarnation || !this.inFlight) return;
    this.finishReady(true);
    this.drive();
  }

  private finishReady(synced: boolean): void {
    const ready = this.inFlight!;
    if (synced) {
      this.disk.sync();
      const hardState = this.disk.durableHardState();
      this.host.checker.onDurableCommit(this.id, hardState.commit);
      if (this.options.checkVotes) this.host.checker.onDurableVote(this.id, hardState.term, hardState.vote);
    }
    this.host.send(this, ready.messagesAfterPersist);
    if (ready.snapshot) {
      this.restoreApp(ready.snapshot);
      this.host.checker.onRestore(this.id, this.applied, this.digest);
    }
    for (const entry of ready.committedEntries) this.apply(entry);
    this.raft.advance();
    this.inFlight = undefined;
    this.maybeSnapshot();
  }

  private apply(entry: Entry): void {
    if (entry.index !== this.applied + 1) {
      this.host.checker.fail(`${this.id} applied ${entry.index} after ${this.applied}`);
    }
    this.applied = entry.index;
    this.digest = fnv(mixNumber(this.digest, entry.index * 4 + entry.type), entry.data);
    const proposal = entry.type === EntryType.Normal ? decoder.decode(entry.data) : '';
    this.host.checker.onApply(this.id, entry.index, entry.term, this.digest, proposal);
    const mine = this.proposed.get(entry.index);
    if (mine !== undefined) {
      this.proposed.delete(entry.index);
      if (mine === proposal) this.host.checker.onAck(proposal, entry.index);
    }
  }

  private maybeSnapshot(): void {
    if (this.applied - this.lastSnapshotIndex < this.options.snapshotEveryEntries) return;
    let meta;
    try {
      meta = this.raft.snapshotMetaAt(this.applied);
    } catch (error) {
      // A snapshot from the leader replaced the log meanwhile: it will replace our state too.
      if ((error as { code?: string }).code === 'RAFT_BAD_SNAPSHOT') return;
      throw error;
    }
    const padding = 'x'.repeat(100 + (this.applied % 400));
    const data = encoder.encode(JSON.stringify({ index: this.applied, digest: this.digest, padding }));
    this.disk.saveSnapshot({ meta, data });
    this.lastSnapshotIndex = this.applied;
    this.raft.snapshotTaken(meta);
  }

  private restoreApp(snapshot: Snapshot): void {
    const state = JSON.parse(decoder.decode(snapshot.data)) as { index: number; digest: number };
    this.applied = state.index;
    this.digest = state.digest;
    this.lastSnapshotIndex = state.index;
  }

  /** Report a newly won leadership to the checker (at most once per term). */
  noteLeadership(): void {
    if (!this.up || this.raft.role !== 'leader' || this.leaderTermSeen === this.raft.term) return;
    this.leaderTermSeen = this.raft.term;
    const status = this.raft.status();
    this.host.checker.onLeader(this.id, this.raft.term, (index) => this.raft.termAt(index), status.firstIndex);
    this.host.onNewLeader(this);
  }

  propose(proposal: string): boolean {
    if (!this.up || this.raft.role !== 'leader') return false;
    try {
      const index = this.raft.propose(encoder.encode(proposal));
      this.proposed.set(index, proposal);
      return true;
    } catch (error) {
      if ((error as { code?: string }).code?.startsWith('RAFT_')) return false;
      throw error;
    }
  }
}
