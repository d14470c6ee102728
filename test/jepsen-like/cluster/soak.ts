// The soak (issue 12; not in CI): a 3-node cluster under the chaos workload for a long time (an
// hour by default), the leadership changed every minute and the leader killed with SIGKILL every
// fifth minute instead (restarted once a new leader is elected). A change is by default a pause:
// SIGSTOP the leader until another node leads, then SIGCONT, so that the processes live on and a
// leak accumulates (tstan has no transfer command but SIGTERM, and a hand-over by SIGTERM restarts
// the node: `handover` does that, and then every node is a new process every few minutes). Every node's RSS, open file descriptors and Raft directory size are sampled from
// /proc and the disk and printed as the run goes; at the end the load is drained and checked
// (total-queue, sequences, equal digests) and the resources must have stayed flat
// (soak-figures.ts). The Raft trace and fsync hooks are off: an hour of them is gigabytes.
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkHistory } from '../checkers/check-history.js';
import { computeFigures } from '../figures.js';
import { HistoryRecorder } from '../history.js';
import { deriveSeed, seededRandom } from '../random.js';
import { Workload, defaultWorkload, type WorkloadConfig } from '../workload.js';
import { ChaosCluster } from './chaos-cluster.js';
import { ClusterNemesis } from './nemesis.js';
import { ClusterTarget, countDivergent, nodeIds } from './runner.js';
import { defaultFlatnessLimits, formatSampleLine, judgeFlatness, type Flatness, type ResourceSample } from './soak-figures.js';

export interface SoakOptions {
  readonly seed: number;
  readonly rootDir: string;
  readonly minutes: number;
  readonly sampleEveryMs: number;
  /** Per publisher (4 publishers); the history of an hour is kept in memory for the checkers. */
  readonly publishRateHz: number;
  /** How the leadership changes each minute: pause the leader, or SIGTERM it (hand-over and restart). */
  readonly leaderChange: 'pause' | 'handover';
  readonly tstanRoot?: string;
  /** Nodes run the built `dist/bin/tstan.js` (as deployed) instead of the sources under tsx. */
  readonly built?: boolean;
  /** NODE_OPTIONS of the nodes (e.g. `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=DIR`). */
  readonly nodeOptions?: string;
  /** A leadership change this often (default a minute); every fifth one is a kill. */
  readonly changeEveryMs?: number;
  /** Every this many changes is a kill instead (default 5; 0: none, so every process lives the whole run). */
  readonly killEvery?: number;
  readonly log: (line: string) => void;
}

export interface SoakReport {
  readonly seed: number;
  readonly minutes: number;
  readonly verdict: 'valid' | 'invalid' | 'error';
  readonly reasons: readonly string[];
  readonly leaderChange: 'pause' | 'handover';
  /** Leadership changes by pause or hand-over (not the kills). */
  readonly changes: number;
  readonly kills: number;
  /** New leaders seen after the changes and kills (each should bring one). */
  readonly leaderChanges: number;
  readonly acked: number;
  readonly lost: number;
  readonly unexpected: number;
  readonly longestAckGapMs: number;
  readonly divergentNodes: number;
  readonly flatness: readonly Flatness[];
  readonly samplesFile: string;
  readonly runDir: string;
}

const MINUTE_MS = 60_000;
const KILL_EVERY_CHANGES = 5;
const WARMUP_MS = 5_000;
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** RSS and open descriptors of a process, from /proc; undefined once it is gone. */
function processResources(pid: number): { rssBytes: number; fds: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    // An exiting process (a hand-over's restart) has no VmRSS any more: no sample then.
    const rssKiB = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
    if (!Number.isFinite(rssKiB)) return undefined;
    return { rssBytes: rssKiB * 1024, fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return undefined;
  }
}

/** Bytes of every file under `dir` (0 if it does not exist yet); files vanishing meanwhile are skipped. */
function directoryBytes(dir: string): number {
  let total = 0;
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true }) as string[];
  } catch {
    return 0;
  }
  for (const name of names) {
    try {
      const stat = statSync(join(dir, name));
      if (stat.isFile()) total += stat.size;
    } catch {
      // compacted away between the listing and the stat
    }
  }
  return total;
}

/** The V8 heap figures of a node's /metrics (prom-client's default metrics); undefined if it does not answer. */
async function heapFigures(monitorUrl: string, timeoutMs: number): Promise<{ heapUsedBytes: number; heapTotalBytes: number; externalBytes: number } | undefined> {
  try {
    const response = await fetch(`${monitorUrl}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return undefined;
    const text = await response.text();
    const value = (name: string) => Number(new RegExp(`^tstan_nodejs_${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    const figures = { heapUsedBytes: value('heap_size_used_bytes'), heapTotalBytes: value('heap_size_total_bytes'), externalBytes: value('external_memory_bytes') };
    return Object.values(figures).every(Number.isFinite) ? figures : undefined;
  } catch {
    return undefined;
  }
}

async function sampleRound(cluster: ChaosCluster, tMs: number): Promise<ResourceSample[]> {
  const round: ResourceSample[] = [];
  for (const id of cluster.members) {
    const pid = cluster.node(id).pid;
    if (pid === undefined) continue;
    const resources = processResources(pid);
    if (resources === undefined) continue;
    const view = await cluster.view(id, 1_000);
    const role = view === undefined ? '?' : view.role === 'Leader' ? 'L' : 'F';
    const raftEntries = view === undefined ? 0 : view.last_index - view.first_index + 1;
    const heap = view === undefined ? undefined : await heapFigures(cluster.node(id).monitorUrl, 1_000);
    round.push({ tMs, node: id, role, ...resources, raftBytes: directoryBytes(cluster.raftDir(id)), raftEntries, ...heap });
  }
  return round;
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const runDir = mkdtempSync(join(options.rootDir, 'soak-'));
  const samplesFile = join(runDir, 'soak-samples.ndjson');
  writeFileSync(samplesFile, '');
  const config: WorkloadConfig = { ...defaultWorkload, publishRateHz: options.publishRateHz };
  const cluster = await ChaosCluster.create({ ids: nodeIds(3), clusterId: config.clusterId, runDir, seed: options.seed, hooks: false,
    ...(options.built === true ? { built: true } : {}),
    ...(options.nodeOptions !== undefined ? { env: { NODE_OPTIONS: options.nodeOptions } } : {}),
    ...(options.tstanRoot !== undefined ? { tstanRoot: options.tstanRoot } : {}) });
  const history = new HistoryRecorder(join(runDir, 'history.jsonl'));
  const random = seededRandom(deriveSeed(options.seed, 'nemesis'));
  const nemesis = new ClusterNemesis(history, cluster, random);
  const workload = new Workload(config, new ClusterTarget(cluster), history, options.seed);
  const samples: ResourceSample[] = [];
  const reasons: string[] = [];
  let changes = 0;
  let kills = 0;
  let leaderChanges = 0;
  let digests = new Map<string, string>();
  let sampler: NodeJS.Timeout | undefined;
  let loadStartMs = 0;
  let sampling = false;
  const takeSamples = async () => {
    if (sampling) return;
    sampling = true;
    try {
      const tMs = Date.now() - loadStartMs;
      const round = await sampleRound(cluster, tMs);
      samples.push(...round);
      appendFileSync(samplesFile, round.map((s) => JSON.stringify(s)).join('\n') + '\n');
      options.log(formatSampleLine(tMs, round, process.memoryUsage().rss));
    } finally {
      sampling = false;
    }
  };
  try {
    await cluster.startAll();
    await cluster.waitLeader({ timeoutMs: 30_000 });
    await workload.start();
    loadStartMs = Date.now();
    sampler = setInterval(() => void takeSamples(), options.sampleEveryMs);
    await takeSamples();
    await delay(WARMUP_MS);
    const everyMs = options.changeEveryMs ?? MINUTE_MS;
    for (let change = 1; change * everyMs < options.minutes * MINUTE_MS; change++) {
      await delay(Math.max(0, loadStartMs + change * everyMs - Date.now()));
      const leader = await cluster.waitLeader({ timeoutMs: 30_000 });
      const killEvery = options.killEvery ?? KILL_EVERY_CHANGES;
      const kill = killEvery > 0 && change % killEvery === 0;
      if (kill) {
        await nemesis.kill(leader.id);
        kills++;
        const next = await cluster.waitLeader({ not: [leader.id], timeoutMs: 30_000 });
        if (next.id !== leader.id) leaderChanges++;
        await nemesis.restart(leader.id);
      } else if (options.leaderChange === 'pause') {
        nemesis.suspend(leader.id);
        changes++;
        const next = await cluster.waitLeader({ not: [leader.id], timeoutMs: 30_000 });
        if (next.id !== leader.id) leaderChanges++;
        nemesis.resume(leader.id);
      } else {
        await nemesis.gracefulRestart(cluster.node(leader.id));
        changes++;
        const next = await cluster.waitLeader({ timeoutMs: 30_000 });
        if (next.id !== leader.id || next.term !== leader.term) leaderChanges++;
      }
      const what = kill ? 'killed' : options.leaderChange === 'pause' ? 'paused until replaced' : 'handed over from';
      options.log(`soak change ${change} at ${((change * everyMs) / MINUTE_MS).toFixed(1)} min: ${what} leader ${leader.id} (term ${leader.term})`);
    }
    await delay(Math.max(0, loadStartMs + options.minutes * MINUTE_MS - Date.now()));
    clearInterval(sampler);
    sampler = undefined;
    await takeSamples();
    await nemesis.healAll();
    await cluster.waitCaughtUp(60_000);
    await workload.drain();
    await workload.stop();
    await cluster.waitConverged(60_000);
    digests = (await cluster.digests(60_000)).digests;
  } catch (error) {
    reasons.push(`harness error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    if (sampler !== undefined) clearInterval(sampler);
    await workload.stop();
    await cluster.close();
    history.close();
  }
  const harnessFailed = reasons.length > 0;
  const verdict = checkHistory(history.ops);
  const figures = computeFigures(history.ops, verdict, nemesis.events);
  const divergentNodes = countDivergent(digests);
  if (!harnessFailed) {
    reasons.push(...verdict.reasons);
    if (divergentNodes > 0) reasons.push(`divergence: ${divergentNodes} of ${digests.size} nodes hold a different state`);
  }
  const flatness = judgeFlatness(samples, { ...defaultFlatnessLimits, settleMs: Math.min(defaultFlatnessLimits.settleMs, (options.minutes * MINUTE_MS) / 5) });
  for (const f of flatness) if (!f.flat) reasons.push(`node ${f.node}'s ${f.metric} grew from a first-half peak of ${f.earlyMax} to a second-half peak of ${f.lateMax} (${Math.round(f.lateSlopePerHour)} an hour in the second half)`);
  const report: SoakReport = {
    seed: options.seed,
    minutes: options.minutes,
    verdict: harnessFailed ? 'error' : reasons.length > 0 ? 'invalid' : 'valid',
    reasons: reasons.slice(0, 16),
    leaderChange: options.leaderChange,
    changes,
    kills,
    leaderChanges,
    acked: figures.acked,
    lost: figures.lost.total,
    unexpected: figures.unexpected,
    longestAckGapMs: figures.longestAckGapMs,
    divergentNodes,
    flatness,
    samplesFile,
    runDir,
  };
  writeFileSync(join(runDir, 'soak-report.json'), JSON.stringify(report, null, 1));
  // Samples, history and node logs stay; node data directories only when the run failed.
  if (report.verdict === 'valid') for (const id of cluster.ids) rmSync(cluster.nodeDir(id), { recursive: true, force: true });
  return report;
}
