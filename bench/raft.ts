// Raft alone: 3 in-process nodes with LevelDB storage and fsync on, joined by the in-memory
// transport, 128-byte proposals through the leader. Reports committed proposals per second,
// commit latency (propose → committed and applied on the leader) p50/p99, and fsyncs per
// committed entry, which falls well below 1 when group commit is at work.
//
// Run on its own: `node dist/bench/raft.js` (after `npm run build`).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RaftDriver, type RaftStateMachine } from '../src/raft/driver.js';
import type { Message } from '../src/raft/messages.js';
import type { Entry } from '../src/raft/types.js';
import { DurableRaftStorage } from '../src/store/raft/durable-storage.js';
import { MemoryNetwork } from '../src/transport/raft/memory-transport.js';

export interface RaftBenchOptions {
  /** Proposals in the throughput phase (default 30,000). */
  readonly proposals?: number;
  /** Proposals outstanding at once in the throughput phase (default 512). */
  readonly window?: number;
  /** Proposals in the one-at-a-time latency phase (default 500). */
  readonly sequentialProposals?: number;
  readonly payloadBytes?: number;
  /** fsync on (`cluster_sync`, default true). */
  readonly sync?: boolean;
}

interface PhaseResult {
  readonly proposals: number;
  readonly window: number;
  readonly seconds: number;
  readonly committedPerSecond: number;
  readonly latencyMsP50: number;
  readonly latencyMsP99: number;
  readonly latencyMsMax: number;
  readonly leaderFsyncsPerEntry: number;
  readonly clusterFsyncsPerEntry: number;
  readonly entriesPerLeaderWrite: number;
}

/** Counts what it applies: the bench measures Raft, not an application. */
class CountingStateMachine implements RaftStateMachine<undefined> {
  applied = 0;
  apply(entries: readonly Entry[]): undefined[] {
    this.applied += entries.length;
    return new Array<undefined>(entries.length).fill(undefined);
  }
  snapshot(): Uint8Array {
    return Uint8Array.of(this.applied & 0xff);
  }
  restore(): void {}
}

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

function round(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

async function startCluster(root: string, sync: boolean): Promise<RaftDriver[]> {
  const ids = ['n1', 'n2', 'n3'];
  const network = new MemoryNetwork<Message>();
  const drivers: RaftDriver[] = [];
  for (const id of ids) {
    const storage = await DurableRaftStorage.open(join(root, id), { sync });
    drivers.push(
      await RaftDriver.start({
        id,
        storage,
        transport: network.connect(id),
        stateMachine: new CountingStateMachine(),
        bootstrap: { voters: ids, nonVoters: [] },
      }),
    );
  }
  return drivers;
}

async function waitForLeader(drivers: readonly RaftDriver[], timeoutMs = 20_000): Promise<RaftDriver> {
  return new Promise((resolve, reject) => {
    const unsubscribes: Array<() => void> = [];
    const finish = (leader: RaftDriver | undefined, error?: Error): void => {
      clearTimeout(timer);
      for (const unsubscribe of unsubscribes) unsubscribe();
      if (leader) resolve(leader);
      else reject(error);
    };
    const check = (): void => {
      const leader = drivers.find((d) => d.role === 'leader');
      if (leader && drivers.every((d) => d.leader === leader.id)) finish(leader);
    };
    const timer = setTimeout(() => finish(undefined, new Error('no leader within the deadline')), timeoutMs);
    for (const driver of drivers) unsubscribes.push(driver.onEvent(check));
    check();
  });
}

async function runPhase(
  drivers: readonly RaftDriver[],
  leader: RaftDriver,
  proposals: number,
  window: number,
  payloadBytes: number,
): Promise<PhaseResult> {
  const payload = new Uint8Array(payloadBytes).fill(0x61);
  const latenciesMs: number[] = [];
  const leaderBefore = leader.stats();
  const syncsBefore = drivers.reduce((sum, d) => sum + d.stats().syncs, 0);
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next < proposals) {
      next++;
      const begin = process.hrtime.bigint();
      await leader.propose(payload);
      latenciesMs.push(Number(process.hrtime.bigint() - begin) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, proposals) }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const leaderAfter = leader.stats();
  const syncsAfter = drivers.reduce((sum, d) => sum + d.stats().syncs, 0);
  latenciesMs.sort((a, b) => a - b);
  const committed = latenciesMs.length;
  const leaderWrites = leaderAfter.persists - leaderBefore.persists;
  return {
    proposals: committed,
    window,
    seconds: round(seconds),
    committedPerSecond: Math.round(committed / seconds),
    latencyMsP50: round(percentile(latenciesMs, 0.5)),
    latencyMsP99: round(percentile(latenciesMs, 0.99)),
    latencyMsMax: round(latenciesMs[latenciesMs.length - 1] ?? 0),
    leaderFsyncsPerEntry: round((leaderAfter.syncs - leaderBefore.syncs) / committed, 4),
    clusterFsyncsPerEntry: round((syncsAfter - syncsBefore) / committed, 4),
    entriesPerLeaderWrite: round((leaderAfter.entriesPersisted - leaderBefore.entriesPersisted) / Math.max(1, leaderWrites), 1),
  };
}

interface RunResult {
  readonly throughput: PhaseResult;
  readonly sequential: PhaseResult;
  /** Process CPU (all three nodes) per committed entry in the throughput phase. */
  readonly cpuMicrosPerEntry: number;
}

/** One run on fresh, empty data directories: warm-up, throughput phase, one-at-a-time phase. */
async function runOnce(options: RaftBenchOptions, sync: boolean): Promise<RunResult> {
  const payloadBytes = options.payloadBytes ?? 128;
  const root = await mkdtemp(join(tmpdir(), 'tstan-raft-bench-'));
  const drivers = await startCluster(root, sync);
  try {
    const leader = await waitForLeader(drivers);
    // Warm up so that the leader's no-op and the first LevelDB files are behind us.
    await runPhase(drivers, leader, 200, 64, payloadBytes);
    const cpuBefore = process.cpuUsage();
    const throughput = await runPhase(drivers, leader, options.proposals ?? 30_000, options.window ?? 512, payloadBytes);
    const cpu = process.cpuUsage(cpuBefore);
    const sequential = await runPhase(drivers, leader, options.sequentialProposals ?? 500, 1, payloadBytes);
    return { throughput, sequential, cpuMicrosPerEntry: round((cpu.user + cpu.system) / throughput.proposals, 1) };
  } finally {
    for (const driver of drivers) await driver.stop();
    await rm(root, { recursive: true, force: true });
  }
}

/** The run whose throughput is the median: its figures belong together. */
function medianRun(runs: RunResult[]): RunResult {
  const sorted = [...runs].sort((a, b) => a.throughput.committedPerSecond - b.throughput.committedPerSecond);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * Runs the Raft benchmark: `runs` (default 3) runs with fsync on, reporting the median run, and
 * one with fsync off (`cluster_sync=false`) to show how much of the cost is the disk.
 */
export async function runRaftBench(options: RaftBenchOptions & { runs?: number } = {}): Promise<object> {
  const fsyncRuns: RunResult[] = [];
  for (let run = 0; run < (options.runs ?? 3); run++) fsyncRuns.push(await runOnce(options, options.sync ?? true));
  const median = medianRun(fsyncRuns);
  const noFsync = await runOnce(options, false);
  return {
    workload: 'raft-3-nodes-in-process',
    payloadBytes: options.payloadBytes ?? 128,
    tickMs: 100,
    runs: fsyncRuns.length,
    fsync: { ...median, committedPerSecondAllRuns: fsyncRuns.map((r) => r.throughput.committedPerSecond) },
    noFsync,
  };
}

function printTable(result: { fsync: RunResult; noFsync: RunResult }): void {
  process.stdout.write(
    'config     phase       window  committed/s  p50 ms  p99 ms  fsyncs/entry leader, cluster  entries/write  cpu us/entry\n',
  );
  for (const [config, run] of [['fsync', result.fsync], ['no fsync', result.noFsync]] as const) {
    for (const [name, phase] of [['throughput', run.throughput], ['sequential', run.sequential]] as const) {
      process.stdout.write(
        `${config.padEnd(10)} ${name.padEnd(11)} ${String(phase.window).padStart(6)}  ${String(phase.committedPerSecond).padStart(11)}  ` +
          `${phase.latencyMsP50.toFixed(2).padStart(6)}  ${phase.latencyMsP99.toFixed(2).padStart(6)}  ` +
          `${phase.leaderFsyncsPerEntry.toFixed(4).padStart(12)}, ${phase.clusterFsyncsPerEntry.toFixed(4).padEnd(15)}  ` +
          `${String(phase.entriesPerLeaderWrite).padStart(13)}  ${name === 'throughput' ? String(run.cpuMicrosPerEntry).padStart(12) : ''}\n`,
      );
    }
  }
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  const result = await runRaftBench();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  printTable(result as { fsync: RunResult; noFsync: RunResult });
}
