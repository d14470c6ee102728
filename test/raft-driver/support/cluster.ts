// An in-process Raft cluster for driver tests and the benchmark: real drivers, LevelDB storage in
// a temporary directory per node, the in-memory transport. Waits are driven by the drivers'
// events (role changes, applies), each with a deadline, never by sleeping.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack, unpack } from 'msgpackr';
import { RaftDriver, type RaftDriverOptions, type RaftStateMachine } from '../../../src/raft/driver.js';
import type { Message } from '../../../src/raft/messages.js';
import { EntryType, type Entry } from '../../../src/raft/types.js';
import { DurableRaftStorage } from '../../../src/store/raft/durable-storage.js';
import { MemoryNetwork } from '../../../src/transport/raft/memory-transport.js';
import type { RaftTransport } from '../../../src/raft/transport.js';

/** Lets a test wrap a node's storage and transport before its driver starts. */
export type NodeDecorator = (
  id: string,
  storage: DurableRaftStorage,
  transport: RaftTransport<Message>,
) => RaftTransport<Message>;

export interface AppliedRecord {
  readonly index: number;
  readonly term: number;
  readonly data: string;
}

/**
 * Records every applied normal entry; the snapshot is the whole record. The result of applying a
 * normal entry is its position in the record (1-based), as a STAN channel's sequence would be.
 */
export class RecordingStateMachine implements RaftStateMachine<number | undefined> {
  records: AppliedRecord[] = [];
  restores = 0;
  private readonly decoder = new TextDecoder();

  apply(entries: readonly Entry[]): Array<number | undefined> {
    return entries.map((entry) => {
      if (entry.type !== EntryType.Normal) return undefined;
      this.records.push({ index: entry.index, term: entry.term, data: this.decoder.decode(entry.data) });
      return this.records.length;
    });
  }

  snapshot(): Uint8Array {
    return pack(this.records);
  }

  restore(data: Uint8Array): void {
    this.records = unpack(data) as AppliedRecord[];
    this.restores++;
  }
}

export interface ClusterOptions {
  readonly ids?: readonly string[];
  readonly tickMs?: number;
  readonly sync?: boolean;
  readonly snapshotEveryEntries?: number;
  readonly snapshotIntervalMs?: number;
  readonly raft?: RaftDriverOptions['raft'];
  readonly decorate?: NodeDecorator;
  /** The state machine of each node (default: a RecordingStateMachine). */
  readonly stateMachine?: (id: string) => RecordingStateMachine;
  /** Use this data directory (e.g. one a crashed process left) instead of a fresh one. */
  readonly root?: string;
}

export interface ClusterMember {
  readonly id: string;
  driver: RaftDriver<number | undefined> | undefined;
  stateMachine: RecordingStateMachine;
}

export class TestCluster {
  readonly network = new MemoryNetwork<Message>();
  readonly members = new Map<string, ClusterMember>();
  private readonly wakeups = new Set<() => void>();

  private constructor(
    readonly root: string,
    readonly ids: readonly string[],
    private readonly options: ClusterOptions,
  ) {}

  static async start(options: ClusterOptions = {}): Promise<TestCluster> {
    const root = options.root ?? (await mkdtemp(join(tmpdir(), 'tstan-raft-cluster-')));
    const cluster = new TestCluster(root, options.ids ?? ['a', 'b', 'c'], options);
    for (const id of cluster.ids) await cluster.startNode(id);
    return cluster;
  }

  /**
   * Starts (or restarts) `id`. A node outside the founding ids starts with an empty log (to be
   * added); `wipe` deletes its data first, and `rejoining` starts it in rejoin mode.
   */
  async startNode(id: string, how: { wipe?: boolean; rejoining?: boolean } = {}): Promise<RaftDriver<number | undefined>> {
    const existing = this.members.get(id);
    if (existing?.driver !== undefined && !existing.driver.isStopped) throw new Error(`node ${id} is running`);
    if (how.wipe === true) await rm(join(this.root, id), { recursive: true, force: true });
    const stateMachine = this.options.stateMachine?.(id) ?? new RecordingStateMachine();
    const storage = await DurableRaftStorage.open(join(this.root, id), { sync: this.options.sync ?? true });
    const connected = this.network.connect(id);
    const transport = this.options.decorate ? this.options.decorate(id, storage, connected) : connected;
    const driver = await RaftDriver.start({
      id,
      storage,
      transport,
      stateMachine,
      ...(this.ids.includes(id) ? { bootstrap: { voters: [...this.ids], nonVoters: [] } } : {}),
      ...(how.rejoining === true ? { rejoining: true } : {}),
      tickMs: this.options.tickMs ?? 50,
      snapshotEveryEntries: this.options.snapshotEveryEntries ?? 8192,
      ...(this.options.snapshotIntervalMs !== undefined ? { snapshotIntervalMs: this.options.snapshotIntervalMs } : {}),
      ...(this.options.raft !== undefined ? { raft: this.options.raft } : {}),
    });
    // Re-checked once every listener of the event has run: a test's own listener, added later,
    // may be what the condition reads (checked before it, the last event of a quiet cluster was lost).
    driver.onEvent(() => queueMicrotask(() => this.wake()));
    this.members.set(id, { id, driver, stateMachine });
    this.wake();
    return driver;
  }

  async stopNode(id: string): Promise<void> {
    const member = this.members.get(id);
    await member?.driver?.stop();
    this.wake();
  }

  running(): RaftDriver<number | undefined>[] {
    const out: RaftDriver<number | undefined>[] = [];
    for (const member of this.members.values()) if (member.driver && !member.driver.isStopped) out.push(member.driver);
    return out;
  }

  driver(id: string): RaftDriver<number | undefined> {
    const driver = this.members.get(id)?.driver;
    if (driver === undefined) throw new Error(`no node ${id}`);
    return driver;
  }

  stateMachine(id: string): RecordingStateMachine {
    const member = this.members.get(id);
    if (member === undefined) throw new Error(`no node ${id}`);
    return member.stateMachine;
  }

  /** The leader every running node agrees on, once there is one. */
  async waitForLeader(timeoutMs = 10_000): Promise<RaftDriver<number | undefined>> {
    let leader: RaftDriver<number | undefined> | undefined;
    await this.waitUntil(() => {
      const running = this.running();
      leader = running.find((d) => d.role === 'leader');
      return leader !== undefined && running.every((d) => d.leader === leader!.id && d.term === leader!.term);
    }, timeoutMs, 'a leader all running nodes follow');
    return leader!;
  }

  /** Every running node has applied `index`. */
  async waitForApplied(index: number, timeoutMs = 15_000): Promise<void> {
    await this.waitUntil(() => this.running().every((d) => d.appliedIndex >= index), timeoutMs, `all nodes applied ${index}`);
  }

  /** Resolves when `condition` holds, re-checking on every driver event (with a deadline). */
  waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        this.wakeups.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.wakeups.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.wakeups.add(check);
    });
  }

  async stop(): Promise<void> {
    for (const member of this.members.values()) await member.driver?.stop();
    await rm(this.root, { recursive: true, force: true });
  }

  /** Re-checks every pending wait (for test hooks that observe things drivers do not announce). */
  wake(): void {
    for (const check of [...this.wakeups]) check();
  }
}
