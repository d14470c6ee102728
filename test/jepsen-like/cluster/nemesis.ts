// The cluster nemesis: the process faults of faults.ts on any node, network faults through the
// link proxies (open until heal()), and disk faults on stopped nodes (power loss from the fsync
// log, a cut or torn Raft log tail, bit flips). Every fault's start and end go into the history
// as `fault` operations and into `events`, on the harness's monotonic clock; disk faults also list
// exactly what they changed. healAll() brings everything back: links pass, paused nodes continue,
// stopped nodes start again.
import { rmSync } from 'node:fs';
import { Nemesis } from '../faults.js';
import type { HistoryRecorder } from '../history.js';
import type { Random } from '../random.js';
import type { ChaosCluster } from './chaos-cluster.js';
import { chopTail, filesMatching, flipBits, powerLoss, raftLogFiles, readDurableLengths, type DiskChange } from './disk.js';

interface OpenFault {
  readonly kind: string;
  readonly node: string;
  readonly startNs: number;
  readonly detail: string;
}

/** A node whose state was damaged on purpose: its next start may find less than it had persisted. */
export interface InflictedDamage {
  readonly node: string;
  readonly atNs: number;
  /** Wall clock, to place the node's log lines (pino's `time`) before or after it. */
  readonly atWallMs: number;
}

/** What a damaged node did when started again. */
export interface Recovery {
  readonly node: string;
  /** `served`: it started and caught up on its own; `refused`: it would not start (or stopped soon after), and was wiped to rejoin. */
  readonly outcome: 'served' | 'refused';
  readonly error?: string;
}

/** A node the harness restarted would not start: the run cannot go on, and that is tstan's finding. */
export class NodeRefusedStart extends Error {
  constructor(
    readonly node: string,
    readonly why: string,
  ) {
    super(`node ${node} refused to start: ${why}`);
  }
}

export class ClusterNemesis extends Nemesis {
  private readonly open: OpenFault[] = [];
  readonly diskChanges: Array<{ node: string; changes: DiskChange[] }> = [];
  readonly damaged: InflictedDamage[] = [];
  readonly recoveries: Recovery[] = [];
  /** Power failures: what was fsynced must survive them, so they are no excuse for a regression. */
  readonly powerLosses: InflictedDamage[] = [];

  constructor(
    history: HistoryRecorder,
    private readonly cluster: ChaosCluster,
    private readonly random: Random,
  ) {
    super(history);
  }

  /** Starts a network fault that lasts until heal(). */
  network(kind: string, node: string, apply: () => void): void {
    const startNs = this.begin(kind, node);
    apply();
    this.open.push({ kind, node, startNs, detail: this.cluster.network.blockedLinks().join(' ') });
  }

  /** Every network fault ends: links pass again. */
  healNetwork(): void {
    this.cluster.network.heal();
    for (const fault of this.open.splice(0)) this.end(fault.kind, fault.node, fault.startNs, undefined, fault.detail);
  }

  /** SIGKILL; the node stays down until restart() (or healAll()). */
  async kill(id: string): Promise<void> {
    const node = this.cluster.node(id);
    const startNs = this.begin('kill-9', id);
    if (node.running) {
      node.signal('SIGKILL');
      await node.waitExit();
    }
    this.open.push({ kind: 'kill-9', node: id, startNs, detail: '' });
  }

  /**
   * Starts a stopped node on its directory and ports; ends its open kill or disk fault. A node
   * that will not start throws NodeRefusedStart, naming the last thing it said.
   */
  async restart(id: string): Promise<void> {
    const node = this.cluster.node(id);
    if (!node.running) {
      try {
        await node.start(60_000);
      } catch (error) {
        throw new NodeRefusedStart(id, `${error instanceof Error ? error.message : String(error)}: ${node.lastLines(1).join(' ').slice(0, 500)}`);
      }
    }
    for (let i = this.open.length - 1; i >= 0; i--) {
      const fault = this.open[i]!;
      if (fault.node === id && !isNetworkKind(fault.kind) && fault.kind !== 'disk-full') {
        this.open.splice(i, 1);
        this.end(fault.kind, fault.node, fault.startNs, undefined, fault.detail || undefined);
      }
    }
  }

  /** SIGSTOP until resume() (or healAll()). */
  suspend(id: string): void {
    const startNs = this.begin('pause', id);
    this.cluster.node(id).signal('SIGSTOP');
    this.open.push({ kind: 'pause', node: id, startNs, detail: '' });
  }

  resume(id: string): void {
    const node = this.cluster.node(id);
    if (node.isPaused) node.signal('SIGCONT');
    for (let i = this.open.length - 1; i >= 0; i--) {
      const fault = this.open[i]!;
      if (fault.node === id && fault.kind === 'pause') {
        this.open.splice(i, 1);
        this.end(fault.kind, fault.node, fault.startNs);
      }
    }
  }

  /**
   * Power failure: SIGKILL (if running), then every file of the node is cut back to what it had
   * fsynced; `tear` keeps a torn piece of one lost tail. The node stays down until restart().
   */
  async powerFail(ids: readonly string[], options: { tear?: boolean } = {}): Promise<void> {
    for (const id of ids) {
      const node = this.cluster.node(id);
      if (node.isPaused) node.signal('SIGKILL');
      else if (node.running) node.signal('SIGKILL');
    }
    await Promise.all(ids.map((id) => this.cluster.node(id).waitExit()));
    for (const id of ids) {
      const startNs = this.begin('power-loss', id);
      const changes = powerLoss(this.cluster.dataDir(id), readDurableLengths(this.cluster.fsyncFile(id)), { ...options, random: this.random });
      this.diskChanges.push({ node: id, changes });
      this.powerLosses.push({ node: id, atNs: startNs, atWallMs: Date.now() });
      this.open.push({ kind: 'power-loss', node: id, startNs, detail: summarize(changes) });
    }
  }

  /** On a stopped node: cuts `bytes` of synced data off its Raft log's tail, or appends garbage. */
  damageRaftTail(id: string, bytes: number, mode: 'cut' | 'garbage'): DiskChange | undefined {
    const file = raftLogFiles(this.cluster.raftDir(id))[0];
    if (file === undefined) return undefined;
    const startNs = this.begin(mode === 'cut' ? 'raft-tail-cut' : 'raft-tail-garbage', id);
    const change = chopTail(file, bytes, mode, this.random);
    this.diskChanges.push({ node: id, changes: [change] });
    this.damaged.push({ node: id, atNs: startNs, atWallMs: Date.now() });
    this.open.push({ kind: mode === 'cut' ? 'raft-tail-cut' : 'raft-tail-garbage', node: id, startNs, detail: summarize([change]) });
    return change;
  }

  /** On a stopped node: flips `bits` bits in the largest file of its data matching `pattern`. */
  flipBitsIn(id: string, pattern: RegExp, bits: number, kind: string): DiskChange | undefined {
    const file = filesMatching(this.cluster.dataDir(id), pattern)[0];
    if (file === undefined) return undefined;
    const startNs = this.begin(kind, id);
    const change = flipBits(file, bits, this.random);
    this.diskChanges.push({ node: id, changes: [change] });
    this.damaged.push({ node: id, atNs: startNs, atWallMs: Date.now() });
    this.open.push({ kind, node: id, startNs, detail: summarize([change]) });
    return change;
  }

  /**
   * Starts a node whose disk was damaged and records what it did: it either starts and catches up
   * with the leader within `settleMs`, or it refuses (exits at start, or soon after); then, as an
   * operator would, its data directory is removed and it starts again, empty, to rejoin.
   * `meanwhile` runs once it has started, before the wait: what it needs to catch up (a node
   * that lost synced state waits for a leader holding what it lost).
   */
  async restartAfterDamage(id: string, settleMs = 15_000, meanwhile?: () => Promise<void>): Promise<void> {
    const node = this.cluster.node(id);
    let error: string | undefined;
    try {
      await node.start(60_000);
      await meanwhile?.();
      const deadline = Date.now() + settleMs;
      for (;;) {
        if (!node.running) throw new Error(`exited after starting (code ${node.exitCode})`);
        const view = await this.cluster.view(id);
        if (view !== undefined && view.ready) break;
        if (Date.now() > deadline) throw new Error(`not ready within ${settleMs} ms: ${JSON.stringify(view)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught);
    }
    if (error === undefined) {
      this.recoveries.push({ node: id, outcome: 'served' });
      await this.restart(id);
      return;
    }
    const lastLines = node.lastLines(1).map((line) => line.slice(0, 400)).join(' | ');
    this.recoveries.push({ node: id, outcome: 'refused', error: `${error}${lastLines ? `; log: ${lastLines}` : ''}` });
    if (node.running) await node.stop();
    rmSync(this.cluster.dataDir(id), { recursive: true, force: true });
    this.damaged.push({ node: id, atNs: this.history.nowNs(), atWallMs: Date.now() });
    await this.restart(id);
  }

  /**
   * The node's own small filesystem (ChaosCluster's diskBytes) is filled but for `leaveBytes`:
   * its writes under load use up the rest. Lasts until freeDisk(); returns the filler's size.
   */
  fillDisk(id: string, leaveBytes: number): number {
    const dir = this.cluster.nodeDir(id);
    if (!this.cluster.disks.isMounted(dir)) throw new Error(`node ${id} has no small disk of its own (scenario diskBytes)`);
    const startNs = this.begin('disk-full', id);
    const filler = this.cluster.disks.fill(dir, leaveBytes);
    this.open.push({ kind: 'disk-full', node: id, startNs, detail: `filler ${filler} B, ${this.cluster.disks.freeBytes(dir)} B left` });
    return filler;
  }

  /** Space returns: the filler goes; the disk-full fault ends. */
  freeDisk(id: string): void {
    this.cluster.disks.free(this.cluster.nodeDir(id));
    for (let i = this.open.length - 1; i >= 0; i--) {
      const fault = this.open[i]!;
      if (fault.node === id && fault.kind === 'disk-full') {
        this.open.splice(i, 1);
        this.end(fault.kind, fault.node, fault.startNs, undefined, fault.detail);
      }
    }
  }

  /** Links pass, paused nodes continue, stopped nodes start; every open fault ends. */
  async healAll(): Promise<void> {
    this.healNetwork();
    for (const id of this.cluster.ids) if (this.open.some((f) => f.node === id && f.kind === 'disk-full')) this.freeDisk(id);
    for (const id of this.cluster.ids) this.resume(id);
    for (const id of this.cluster.members) await this.restart(id);
  }
}

const NETWORK_KINDS = new Set(['isolate', 'partition', 'one-way', 'leader-deaf', 'link-cut', 'bridge', 'ring', 'slow-links']);

function isNetworkKind(kind: string): boolean {
  return NETWORK_KINDS.has(kind) || kind.startsWith('net-');
}

function summarize(changes: readonly DiskChange[]): string {
  return changes.map((c) => `${c.action} ${c.file.split('/').slice(-3).join('/')} ${c.fromBytes}->${c.toBytes}${c.detail ? ` (${c.detail})` : ''}`).join('; ');
}
