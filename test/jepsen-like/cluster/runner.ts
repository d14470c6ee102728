// Takes a cluster scenario through its phases (docs/testing.md §5.4): start N nodes behind the
// link proxies and wait for a leader; start the workload (clients spread over the nodes); warm
// up; run the fault schedule; heal everything; wait until every node has applied the same index;
// drain (subscribers to the end, a fresh deliver-all reader per channel); stop the clients and
// wait for the nodes to agree again; compare their digests; stop the cluster. Then every checker:
// the history's (total-queue, sequences), divergence, Raft invariants over the traces, the nodes'
// logs; and the figures, one JSON row. Safety findings make the verdict invalid; a timing makes it
// invalid only past three times its bound (shared 2-core machines are noisy), and is noted above it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkHistory } from '../checkers/check-history.js';
import { checkRaftInvariants, type InvariantResult } from '../checkers/raft-invariants.js';
import { computeFigures, type Figures } from '../figures.js';
import { HistoryRecorder } from '../history.js';
import { deriveSeed, seededRandom } from '../random.js';
import { Workload, defaultWorkload, type DrainTarget, type WorkloadConfig } from '../workload.js';
import { ChaosCluster } from './chaos-cluster.js';
import { computeClusterFigures, roleSpans, type ClusterFigures, type RoleSpan } from './cluster-figures.js';
import { ClusterMonitor, type NodeSample } from './monitor.js';
import { ClusterNemesis, NodeRefusedStart } from './nemesis.js';
import type { ClusterScenario, TimingBounds } from './scenario.js';
import { loadTrace, mergeTraces, type TraceEvent } from './trace.js';
import type { FaultEvent } from '../faults.js';
import { judgeLogLines, knownLogIssues } from './node-logs.js';

export interface ClusterRunOptions {
  readonly seed: number;
  readonly rootDir: string;
  readonly phases: { readonly warmupMs: number; readonly faultMs: number };
  readonly workload?: Partial<WorkloadConfig>;
  /** A test-only entry module instead of the CLI (a deliberately broken build), and its environment. */
  readonly entry?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Extra flags for every node, after the scenario's own. */
  readonly args?: readonly string[];
  readonly tstanRoot?: string;
  readonly keep?: boolean;
  /** Multiplier on every timing bound before it fails the run (3 in CI; reported either way). */
  readonly timingSlack?: number;
}

export interface TimingNote {
  readonly name: string;
  readonly valueMs: number;
  readonly boundMs: number;
  readonly verdict: 'ok' | 'slow' | 'fail';
}

export interface ClusterRunReport {
  readonly scenario: string;
  readonly description: string;
  readonly number: number | null;
  readonly size: number;
  readonly seed: number;
  /** `measured`: a scenario that measures an allowed loss saw one and nothing else failed. */
  readonly verdict: 'valid' | 'invalid' | 'error' | 'measured';
  readonly reasons: readonly string[];
  readonly figures: Figures | null;
  readonly cluster: ClusterFigures | null;
  readonly invariants: InvariantResult | null;
  readonly divergentNodes: number;
  readonly digests: Record<string, string>;
  readonly nodeLogErrors: Record<string, number>;
  /** Error lines of known, harmless causes (cluster/node-logs.ts), per node. */
  readonly knownLogErrors: Record<string, number>;
  /** What nodes logged after their files were damaged on purpose (their reaction), per node. */
  readonly afterDamageLog: Record<string, { lines: number; first: string[] }>;
  /** How each damaged node came back (served on its own, or refused and was wiped to rejoin). */
  readonly recoveries: ReadonlyArray<{ readonly node: string; readonly outcome: string; readonly error?: string }>;
  /**
   * For scenarios that measure an allowed loss: the loss, not failed. `availability` when the
   * cluster did not elect or serve again within the harness's waits (a lost majority without fsync
   * may never elect again): then `unreadable` acknowledged messages could not be read back at all.
   */
  readonly measuredLoss?: {
    readonly lost: number;
    readonly readerMissed: number;
    readonly absentFromDrain: number;
    readonly inconsistentSeqs: number;
    readonly invariantViolations: number;
    readonly acked: number;
    readonly availability?: string;
    readonly unreadable?: number;
    readonly reasons: readonly string[];
  };
  readonly convergeAfterHealMs: number | null;
  readonly catchUps: ReadonlyArray<{ readonly label: string; readonly ms: number }>;
  readonly network: { readonly gossipDialsSunk: number; readonly framesDropped: number; readonly framesDelayed: number; readonly connectionsRefused: number };
  readonly timings: readonly TimingNote[];
  readonly faults: readonly FaultEvent[];
  readonly diskChanges: ReadonlyArray<{ node: string; changes: ReadonlyArray<{ file: string; action: string; fromBytes: number; toBytes: number; detail?: string }> }>;
  readonly durationMs: number;
  readonly runDir: string;
  /** The scenario's own figures (ctx.note). */
  readonly notes: Readonly<Record<string, unknown>>;
  /** For the report's timeline; not printed in the JSON row. */
  readonly timeline?: Timeline;
}

export interface Timeline {
  readonly faultStartMs: number;
  readonly healMs: number;
  readonly endMs: number;
  readonly acksPerSecond: readonly number[];
  readonly publishesPerSecond: readonly number[];
  readonly roles: Readonly<Record<string, readonly RoleSpan[]>>;
  readonly samples: readonly NodeSample[];
}

const REASONS_MAX = 16;
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const ms = (ns: number) => Math.round(ns / 1e5) / 10;

/** Clients get a home node in turn on first sight, and the next node on each later attempt. */
export class ClusterTarget implements DrainTarget {
  private readonly homes = new Map<string, number>();

  constructor(private readonly cluster: ChaosCluster) {}

  endpoint(proc: string, attempt: number): { name: string; url: string } {
    let home = this.homes.get(proc);
    if (home === undefined) this.homes.set(proc, (home = this.homes.size));
    const ids = this.cluster.members;
    const id = ids[(home + attempt) % ids.length]!;
    return { name: id, url: this.cluster.node(id).url };
  }

  lastSeq(channel: string): Promise<number> {
    return this.cluster.lastSeq(channel);
  }
}

/** Where a run is: a scenario that measures loss may lose availability only once its faults began. */
export type RunPhase = 'start' | 'faults' | 'heal' | 'drain' | 'converge';

/** The cluster's waits that time out when no node leads or serves: a loss of availability. */
const AVAILABILITY_TIMEOUT = /^(no leader within|nodes did not apply|nodes did not converge|no agreed applied index)/;

/**
 * What a harness error means for a scenario: for one that measures an allowed loss (no fsync), a
 * wait for a leader or for the nodes to apply and agree that timed out after its faults began is
 * the availability the faults cost, a figure (`<phase>: <what timed out>`). Anything else, and
 * every error of a scenario that must lose nothing, stays a harness error (undefined).
 */
export function availabilityLost(error: unknown, measuresLoss: boolean, phase: RunPhase): string | undefined {
  if (!measuresLoss || phase === 'start' || error instanceof NodeRefusedStart) return undefined;
  const message = error instanceof Error ? error.message : String(error);
  return AVAILABILITY_TIMEOUT.test(message) ? `${phase}: ${message.slice(0, 400)}` : undefined;
}

export function nodeIds(size: number): string[] {
  return 'abcdefghij'.slice(0, size).split('');
}

export async function runClusterScenario(scenario: ClusterScenario, options: ClusterRunOptions): Promise<ClusterRunReport> {
  const startedMs = Date.now();
  const runDir = mkdtempSync(join(options.rootDir, `${scenario.name}-`));
  const config: WorkloadConfig = { ...defaultWorkload, ...scenario.workload, ...options.workload };
  const args = [...(scenario.args ?? []), ...(options.args ?? [])];
  const cluster = await ChaosCluster.create({
    ids: nodeIds(scenario.size + (scenario.spares ?? 0)).slice(0, scenario.size), clusterId: config.clusterId, runDir, seed: options.seed, args,
    spares: nodeIds(scenario.size + (scenario.spares ?? 0)).slice(scenario.size),
    ...(scenario.diskBytes !== undefined ? { diskBytes: scenario.diskBytes } : {}),
    ...(scenario.nodeEnv !== undefined ? { nodeEnv: (id: string) => scenario.nodeEnv!(id, runDir) } : {}),
    ...(options.entry !== undefined ? { entry: options.entry } : {}),
    ...(options.env !== undefined ? { env: options.env } : {}),
    ...(options.tstanRoot !== undefined ? { tstanRoot: options.tstanRoot } : {}),
  });
  const history = new HistoryRecorder(join(runDir, 'history.jsonl'));
  const random = seededRandom(deriveSeed(options.seed, 'nemesis'));
  const nemesis = new ClusterNemesis(history, cluster, random);
  const monitor = new ClusterMonitor(cluster, () => history.nowNs());
  const workload = new Workload(config, new ClusterTarget(cluster), history, options.seed);
  const phases = options.phases;
  let harnessError: unknown;
  let phase: RunPhase = 'start';
  let faultStartNs = 0;
  let healNs = 0;
  let convergeAfterHealMs: number | null = null;
  let digests = new Map<string, string>();
  const catchUps: Array<{ label: string; ms: number }> = [];
  const findings: string[] = [];
  const notes: Record<string, unknown> = {};
  const measureCatchUp = async (label: string) => {
    const startNs = history.nowNs();
    await cluster.waitCaughtUp(30_000);
    const took = ms(history.nowNs() - startNs);
    catchUps.push({ label, ms: took });
    return took;
  };
  try {
    await cluster.startAll();
    await cluster.waitLeader({ timeoutMs: 30_000 });
    monitor.start();
    await workload.start();
    await delay(phases.warmupMs);
    faultStartNs = history.nowNs();
    const faultStartMs = Date.now();
    const at = (atMs: number) => delay(Math.max(0, faultStartMs + atMs - Date.now()));
    const fail = (reason: string) => void findings.push(reason);
    const note = (name: string, value: unknown) => void (notes[name] = value);
    phase = 'faults';
    await scenario.faults({ cluster, nemesis, history, workload, random, phases, at, leader: () => cluster.waitLeader({ timeoutMs: 30_000 }), measureCatchUp, fail, note });
    await at(phases.faultMs);
    healNs = history.nowNs();
    phase = 'heal';
    await nemesis.healAll();
    await cluster.waitCaughtUp(30_000);
    convergeAfterHealMs = ms(history.nowNs() - healNs);
    phase = 'drain';
    await workload.drain();
    await workload.stop();
    phase = 'converge';
    await cluster.waitConverged(30_000);
    digests = (await cluster.digests(30_000)).digests;
  } catch (error) {
    harnessError = error;
  } finally {
    monitor.stop();
    await workload.stop();
    await cluster.close();
    history.close();
  }
  const endNs = history.nowNs();
  const traces = new Map<string, TraceEvent[]>(cluster.ids.map((id) => [id, loadTrace(cluster.traceFile(id), history.originNs)]));
  const merged = mergeTraces(traces);
  const damage = [...nemesis.damaged, ...(scenario.measuresLoss === true ? nemesis.powerLosses : [])];
  const damagedSince = (id: string) => {
    const times = damage.filter((d) => d.node === id).map((d) => d.atWallMs);
    return times.length === 0 ? undefined : Math.min(...times);
  };
  const excused = [...knownLogIssues, ...(scenario.knownLogIssues ?? [])];
  const logVerdicts = new Map([...cluster.errorLines()].map(([id, lines]) => [id, judgeLogLines(lines, damagedSince(id), excused)]));
  const nodeLogErrors = Object.fromEntries([...logVerdicts].map(([id, v]) => [id, v.unexpected.length]));
  const knownLogErrors = Object.fromEntries([...logVerdicts].map(([id, v]) => [id, v.known]));
  const afterDamageLog = Object.fromEntries([...logVerdicts].filter(([, v]) => v.afterDamage.length > 0).map(([id, v]) => [id, { lines: v.afterDamage.length, first: v.afterDamage.slice(0, 3).map((l) => l.slice(0, 400)) }]));
  const base = {
    scenario: scenario.name,
    description: scenario.description,
    number: scenario.number ?? null,
    size: scenario.size,
    seed: options.seed,
    network: cluster.network.stats(),
    faults: nemesis.events,
    diskChanges: nemesis.diskChanges,
    nodeLogErrors,
    knownLogErrors,
    afterDamageLog,
    recoveries: nemesis.recoveries,
    convergeAfterHealMs,
    catchUps,
    runDir,
    digests: Object.fromEntries(digests),
    notes,
  };
  const timeline = buildTimeline(history, traces, monitor.samples, faultStartNs, healNs, endNs);
  // A lazy scenario whose cluster never served again is checked on what it has: its loss then
  // includes availability, measured; the drain, convergence and digests it never reached are named.
  const unavailable = harnessError === undefined ? undefined : availabilityLost(harnessError, scenario.measuresLoss === true, phase);
  if (unavailable !== undefined) harnessError = undefined;
  if (harnessError instanceof NodeRefusedStart) {
    // Not the harness's failure: a node would not come back, so the run could not be checked further.
    const reasons = [`availability: ${harnessError.message}`, ...findings];
    writeFileSync(join(runDir, 'report.json'), JSON.stringify({ ...base, reasons }, null, 1));
    return { ...base, verdict: 'invalid', reasons, figures: null, cluster: null, invariants: null, divergentNodes: 0, timings: [], durationMs: Date.now() - startedMs, timeline };
  }
  if (harnessError !== undefined) {
    const reasons = [`harness error: ${harnessError instanceof Error ? (harnessError.stack ?? harnessError.message) : String(harnessError)}`];
    writeFileSync(join(runDir, 'report.json'), JSON.stringify({ ...base, reasons }, null, 1));
    return { ...base, verdict: 'error', reasons, figures: null, cluster: null, invariants: null, divergentNodes: 0, timings: [], durationMs: Date.now() - startedMs, timeline };
  }
  const verdict = checkHistory(history.ops);
  const figures = computeFigures(history.ops, verdict, nemesis.events);
  const durable = !args.includes('--cluster_sync=false');
  const invariants = checkRaftInvariants(traces, { voters: scenario.size, durable, damaged: damage });
  const clusterFigures = computeClusterFigures(merged, nemesis.events, faultStartNs, 0);
  const divergentNodes = countDivergent(digests);
  // A scenario that measures an allowed loss keeps its loss apart: lost, missed and the gaps they leave.
  // Lost data also shows as sequences reused for new payloads, and the order checks those break.
  const isLoss = (reason: string) => /acknowledged values lost|missed \d+ acknowledged|lost below a sequence|gaps in a reader|jumped from|acked but unread|drains did not complete|absent from the final|read with two payloads|read as .* and as|order violations|was acked before|published .* before .* stored at/.test(reason);
  const measured: string[] = scenario.measuresLoss === true ? verdict.reasons.filter(isLoss) : [];
  const reasons: string[] = verdict.reasons.filter((reason) => !measured.includes(reason));
  if (divergentNodes > 0) reasons.push(`divergence: ${divergentNodes} of ${digests.size} nodes hold a different state (${[...digests].map(([id, d]) => `${id}=${d.slice(0, 12)}`).join(' ')})`);
  if (unavailable !== undefined) measured.unshift(`availability lost (${unavailable}); not reached: ${phase === 'converge' ? 'the final agreement and digests' : 'the drain, the final agreement and digests'}`);
  else if (digests.size < cluster.members.length) reasons.push(`divergence not checked on every node: ${digests.size} of ${cluster.members.length} answered`);
  // Without fsync a node may forget entries and votes: invariants built on durability then break by
  // configuration, and such a scenario measures that too.
  for (const example of invariants.examples) (scenario.measuresLoss === true ? measured : reasons).push(`raft invariant (${example.kind}): ${example.detail}`);
  for (const [id, v] of logVerdicts) if (v.unexpected.length > 0) reasons.push(`node ${id} log has ${v.unexpected.length} error lines, first: ${v.unexpected[0]?.slice(0, 300)}`);
  const timings = judgeTimings(scenario.bounds ?? {}, figures, clusterFigures, convergeAfterHealMs, catchUps, options.timingSlack ?? 3);
  for (const t of timings) if (t.verdict === 'fail') reasons.push(`timing: ${t.name} ${t.valueMs} ms is past ${options.timingSlack ?? 3}x its bound of ${t.boundMs} ms`);
  reasons.push(...findings);
  for (const extra of scenario.accept?.({ figures, cluster: clusterFigures, traces: merged, faults: nemesis.events, ops: history.ops, notes, note: (name: string, value: unknown) => void (notes[name] = value) }) ?? []) reasons.push(extra);
  const valid = reasons.length === 0;
  const report: ClusterRunReport = {
    ...base,
    verdict: !valid ? 'invalid' : measured.length > 0 ? 'measured' : 'valid',
    ...(scenario.measuresLoss === true
      ? {
          measuredLoss: {
            lost: figures.lost.total,
            readerMissed: figures.readerMissed,
            absentFromDrain: figures.absentFromDrain,
            inconsistentSeqs: figures.inconsistentSeqs,
            invariantViolations: Object.values(invariants.counts).reduce((a, b) => a + b, 0),
            acked: figures.acked,
            // Without the drain no acknowledged message was read back from the end state.
            ...(unavailable !== undefined ? { availability: unavailable, unreadable: phase === 'converge' ? 0 : figures.acked } : {}),
            reasons: measured.slice(0, 8),
          },
        }
      : {}),
    reasons: reasons.slice(0, REASONS_MAX),
    figures,
    cluster: clusterFigures,
    invariants,
    divergentNodes,
    timings,
    durationMs: Date.now() - startedMs,
    timeline,
  };
  writeFileSync(join(runDir, 'report.json'), JSON.stringify({ ...report, timeline: undefined }, null, 1));
  // The history, node logs, traces and fsync logs stay beside the report; data directories only on failure.
  if (valid && options.keep !== true) for (const id of cluster.ids) rmSync(cluster.nodeDir(id), { recursive: true, force: true });
  return report;
}

/** Nodes whose digest differs from the one most nodes share. */
export function countDivergent(digests: ReadonlyMap<string, string>): number {
  const counts = new Map<string, number>();
  for (const digest of digests.values()) counts.set(digest, (counts.get(digest) ?? 0) + 1);
  const most = Math.max(0, ...counts.values());
  return digests.size - most;
}

function judgeTimings(bounds: TimingBounds, figures: Figures, cluster: ClusterFigures, convergeMs: number | null, catchUps: ReadonlyArray<{ label: string; ms: number }>, slack: number): TimingNote[] {
  const notes: TimingNote[] = [];
  const judge = (name: string, valueMs: number | null | undefined, boundMs: number | undefined) => {
    if (boundMs === undefined || valueMs === null || valueMs === undefined) return;
    notes.push({ name, valueMs, boundMs, verdict: valueMs <= boundMs ? 'ok' : valueMs <= boundMs * slack ? 'slow' : 'fail' });
  };
  judge('longest gap between acks', figures.longestAckGapMs, bounds.longestAckGapMs);
  judge('convergence after heal', convergeMs, bounds.convergeMs);
  for (const c of catchUps) judge(`catch-up ${c.label}`, c.ms, bounds.catchUpMs);
  for (const f of cluster.leaderFaults) {
    if (bounds.newLeaderMs === undefined || !f.hitLeader) continue;
    // A fault that needs no new leader may see none; one that does must see it in time.
    judge(`new leader after ${f.kind} of ${f.node}`, f.newLeaderMs ?? (bounds.newLeaderRequired ? Number.POSITIVE_INFINITY : null), bounds.newLeaderMs);
  }
  return notes;
}

function buildTimeline(history: HistoryRecorder, traces: ReadonlyMap<string, readonly TraceEvent[]>, samples: readonly NodeSample[], faultStartNs: number, healNs: number, endNs: number): Timeline {
  const seconds = Math.ceil(endNs / 1e9) + 1;
  const acks = new Array<number>(seconds).fill(0);
  const publishes = new Array<number>(seconds).fill(0);
  for (const op of history.ops) {
    if (op.f !== 'publish') continue;
    const second = Math.floor(op.tMonoNs / 1e9);
    if (op.type === 'ok') acks[second] = (acks[second] ?? 0) + 1;
    else if (op.type === 'invoke') publishes[second] = (publishes[second] ?? 0) + 1;
  }
  const roles: Record<string, RoleSpan[]> = {};
  for (const [id, events] of traces) roles[id] = roleSpans(events, endNs);
  return { faultStartMs: ms(faultStartNs), healMs: ms(healNs), endMs: ms(endNs), acksPerSecond: acks, publishesPerSecond: publishes, roles, samples };
}
