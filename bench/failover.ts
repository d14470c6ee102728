// What a client sees when a 3-node cluster loses its leader under load: the `failover` suite.
// Each run starts a fresh cluster (FILE, `--cluster_sync` unless told otherwise), runs the lean
// publisher (bench/failover-client.ts) against a follower at a steady rate, and some seconds in
// hits the leader: SIGKILL (a crash), SIGTERM (a planned stop, which hands leadership over
// first) or SIGSTOP for `pauseSec` then SIGCONT (a frozen leader that comes back still believing
// it leads). Reported per run and as medians over the runs: (a) the time from the signal until a
// surviving node says in /streaming/clusterz that it leads and serves (polled every `pollMs`),
// (b) the longest gap between consecutive PubAcks the client saw, and the gap around the signal,
// (c) how many publishes the client had to send again (unacknowledged after its ack timeout).
// Not a test: nothing fails; the targets are printed beside the figures.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scriptCommand } from './client-programs.js';
import type { AckGap, FailoverClientResult } from './failover-client.js';
import { ownRoot, serverBuild, type ServerBuild } from './tstan-server.js';
import { startCluster, type ClusterNode, type RunningCluster } from './tstan-cluster.js';
import { flagValue, numberFlag, type FlagKind } from './flags.js';

export type FailoverFault = 'kill' | 'term' | 'pause';
export const FAILOVER_FAULTS: readonly FailoverFault[] = ['kill', 'term', 'pause'];
/** What runs unless --faults says otherwise. */
const DEFAULT_FAULTS: readonly FailoverFault[] = ['kill', 'term'];
const SIGNALS: Record<FailoverFault, NodeJS.Signals> = { kill: 'SIGKILL', term: 'SIGTERM', pause: 'SIGSTOP' };

export interface FailoverBenchOptions {
  /** Runs per fault; the median is reported (default 5). */
  readonly runs?: number;
  readonly faults?: readonly FailoverFault[];
  /** `--cluster_sync` of the clusters, each its own set of runs (default [true]). */
  readonly syncs?: readonly boolean[];
  /** Seconds of publishing (default 10); the leader is hit `faultAfterSec` in (default 4). */
  readonly durationSec?: number;
  readonly faultAfterSec?: number;
  /** How long a paused leader stays stopped (default 3 s, beyond the election timeout). */
  readonly pauseSec?: number;
  /** The publisher: msgs/s (default 5,000), PubAcks outstanding at most (8,192), ack timeout (2,000 ms). */
  readonly rate?: number;
  readonly window?: number;
  readonly ackTimeoutMs?: number;
  /** How often the survivors' /streaming/clusterz is read after the signal (default 10 ms). */
  readonly pollMs?: number;
  readonly tstanRoot?: string;
  readonly print?: boolean;
}

export interface FailoverRun {
  readonly fault: FailoverFault;
  readonly run: number;
  readonly loadAvg1: number;
  /** Signal → a survivor leads and serves. */
  readonly newLeaderMs: number;
  /** Signal → the old leader's process has exited (NaN for a pause). */
  readonly exitedMs: number;
  readonly longestAckGapMs: number;
  /** The gap between acks that spans the signal (0 if acks kept coming within gapReportMs). */
  readonly faultAckGapMs: number;
  /** Signal → the first ack after it (0 when acks kept coming within the client's gap-report-ms, 100). */
  readonly firstAckAfterFaultMs: number;
  readonly republished: number;
  /** PubAcks with an error: the server says the publish was not stored. */
  readonly ackErrors: number;
  readonly duplicateAcks: number;
  /** Read back from the channel: copies beyond the first (both attempts committed). */
  readonly storedTwice: number;
  /** Stored copies of attempts the server had refused with an error PubAck (false failures). */
  readonly refusedButStored: number;
  /** Acknowledged messages the channel does not hold (lost). */
  readonly ackedButMissing: number;
  readonly messages: number;
  readonly acked: number;
  readonly clientCpuSec: number;
  readonly status: string;
  readonly errorLines: string[];
  /** Where the nodes' logs were copied when they hold error lines. */
  readonly logsKeptIn?: string;
}

const DEFAULTS = { runs: 5, durationSec: 10, faultAfterSec: 4, pauseSec: 3, rate: 5_000, window: 16_384, ackTimeoutMs: 2_000, pollMs: 10 } as const;
/** Issue 11: a new leader within 2.5 s (median 1.5 s); the reference takes 4.8-7.8 s on these machines. */
const NEW_LEADER_TARGET_MS = 2_500;
const NEW_LEADER_TARGET_MEDIAN_MS = 1_500;
const NEW_LEADER_TIMEOUT_MS = 30_000;
const FAULT_SLACK_MS = 500;

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the time (Date.now()) at which a node other than `old` first said it leads and serves. */
async function waitForNewLeader(cluster: RunningCluster, old: string, pollMs: number): Promise<number> {
  const survivors = cluster.nodes.filter((node) => node.id !== old);
  const deadline = Date.now() + NEW_LEADER_TIMEOUT_MS;
  for (;;) {
    const views = await Promise.all(survivors.map((node) => node.view()));
    const now = Date.now();
    if (views.some((view) => view?.role === 'Leader' && view.serving)) return now;
    if (now > deadline) throw new Error(`no new leader within ${NEW_LEADER_TIMEOUT_MS} ms: ${JSON.stringify(views)}`);
    await delay(pollMs);
  }
}

/**
 * The gap between acks the fault caused: the longest reported gap that ends after the signal and
 * starts before it or soon after (acks already on their way through a route may still arrive).
 */
function gapAtFault(gaps: readonly AckGap[], faultAt: number): AckGap | undefined {
  const candidates = gaps.filter((gap) => gap.toMs >= faultAt && gap.fromMs <= faultAt + FAULT_SLACK_MS);
  return candidates.sort((a, b) => b.toMs - b.fromMs - (a.toMs - a.fromMs))[0];
}

/** SIGCONT at `at` (Date.now() time); resolves with NaN: a paused node does not exit. */
async function resumeLater(node: ClusterNode, at: number): Promise<number> {
  await delay(Math.max(0, at - Date.now()));
  node.signal('SIGCONT');
  return Number.NaN;
}

async function waitExited(node: ClusterNode): Promise<number> {
  await node.waitExit(NEW_LEADER_TIMEOUT_MS);
  return Date.now();
}

interface ClientProcess {
  readonly started: Promise<void>;
  readonly result: Promise<FailoverClientResult>;
}

function startClient(url: string, options: Required<Pick<FailoverBenchOptions, 'durationSec' | 'rate' | 'window' | 'ackTimeoutMs'>>): ClientProcess {
  const { command, args } = scriptCommand('failover-client');
  const flags = ['--url', url, '--duration-s', String(options.durationSec), '--rate', String(options.rate), '--window', String(options.window), '--ack-timeout-ms', String(options.ackTimeoutMs)];
  const child = spawn(command, [...args, ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let markStart = (): void => {};
  const started = new Promise<void>((resolve) => (markStart = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.includes('MARK start\n')) markStart();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  const result = once(child, 'close').then(() => {
    markStart();
    const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
    if (line === undefined) throw new Error(`the failover client printed no result: ${stderr.trim()}`);
    return JSON.parse(line) as FailoverClientResult;
  });
  return { started, result };
}

/** One run: a fresh cluster, the publisher on a follower, the signal to the leader `faultAfterSec` in. */
type RunSettings = Required<Omit<FailoverBenchOptions, 'tstanRoot' | 'print' | 'faults' | 'syncs'>> & { readonly sync: boolean };

async function runOnce(build: ServerBuild, fault: FailoverFault, run: number, options: RunSettings): Promise<FailoverRun> {
  const loadAvg1 = loadavg()[0]!;
  const cluster = await startCluster(build, { size: 3, sync: options.sync });
  try {
    const leaderId = await cluster.leader();
    const follower = cluster.nodes.find((node) => node.id !== leaderId)!;
    const client = startClient(follower.url, options);
    await client.started;
    await delay(options.faultAfterSec * 1000);
    const leader = cluster.node(leaderId);
    const faultAt = Date.now();
    leader.signal(SIGNALS[fault]);
    const [newLeaderAt, exitedAt] = await Promise.all([
      waitForNewLeader(cluster, leaderId, options.pollMs),
      fault === 'pause' ? resumeLater(leader, faultAt + options.pauseSec * 1000) : waitExited(leader),
    ]);
    const result = await client.result;
    const around = gapAtFault(result.gaps ?? [], faultAt);
    const errorLines = [...cluster.errorLines()].flatMap(([id, lines]) => lines.map((line) => `${id}: ${line.slice(0, 300)}`));
    return {
      fault,
      run,
      loadAvg1,
      newLeaderMs: newLeaderAt - faultAt,
      exitedMs: exitedAt - faultAt,
      ackErrors: result.ackErrors ?? Number.NaN,
      longestAckGapMs: result.longestAckGapMs ?? Number.NaN,
      faultAckGapMs: around === undefined ? 0 : around.toMs - around.fromMs,
      firstAckAfterFaultMs: around === undefined ? 0 : around.toMs - faultAt,
      republished: result.republished ?? Number.NaN,
      duplicateAcks: result.duplicateAcks ?? Number.NaN,
      storedTwice: result.storedTwice ?? Number.NaN,
      refusedButStored: result.refusedButStored ?? Number.NaN,
      ackedButMissing: result.ackedButMissing ?? Number.NaN,
      messages: result.messages ?? 0,
      acked: result.acked ?? 0,
      clientCpuSec: result.clientCpuSec ?? 0,
      status: result.status,
      errorLines,
      ...(errorLines.length > 0 ? { logsKeptIn: cluster.keepLogs() } : {}),
    };
  } finally {
    await cluster.stop();
  }
}

function failedRun(fault: FailoverFault, run: number, error: unknown): FailoverRun {
  const nan = Number.NaN;
  return {
    fault, run, loadAvg1: loadavg()[0]!, newLeaderMs: nan, exitedMs: nan, longestAckGapMs: nan, faultAckGapMs: nan, firstAckAfterFaultMs: nan,
    republished: nan, ackErrors: nan, duplicateAcks: nan, storedTwice: nan, refusedButStored: nan, ackedButMissing: nan, messages: 0, acked: 0, clientCpuSec: 0, status: `error: ${error instanceof Error ? error.message : String(error)}`, errorLines: [],
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? Number.NaN : sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function summarize(fault: FailoverFault, runs: readonly FailoverRun[], options: RunSettings): Record<string, unknown> {
  const ok = runs.filter((run) => run.status === 'OK');
  const stat = (key: keyof FailoverRun): { median: number; min: number; max: number } => {
    const values = ok.map((run) => Number(run[key]));
    const tidy = (value: number): number => (Math.abs(value) >= 100 ? Math.round(value) : Number(value.toFixed(2)));
    return { median: tidy(median(values)), min: tidy(Math.min(...values)), max: tidy(Math.max(...values)) };
  };
  const newLeader = stat('newLeaderMs');
  return {
    suite: 'failover',
    type: 'summary',
    fault,
    config: `3 nodes, ${options.sync ? '--cluster_sync (default)' : '--cluster_sync=false'}, publisher on a follower`,
    runs: ok.length,
    failedRuns: runs.length - ok.length,
    loadAvg1: stat('loadAvg1'),
    newLeaderMs: newLeader,
    longestAckGapMs: stat('longestAckGapMs'),
    faultAckGapMs: stat('faultAckGapMs'),
    firstAckAfterFaultMs: stat('firstAckAfterFaultMs'),
    republished: stat('republished'),
    ackErrors: stat('ackErrors'),
    duplicateAcks: stat('duplicateAcks'),
    storedTwice: stat('storedTwice'),
    refusedButStored: stat('refusedButStored'),
    ackedButMissing: stat('ackedButMissing'),
    exitedMs: stat('exitedMs'),
    clientCpuSec: stat('clientCpuSec'),
    publisher: { rate: options.rate, window: options.window, ackTimeoutMs: options.ackTimeoutMs, durationSec: options.durationSec, faultAfterSec: options.faultAfterSec },
    ...(fault === 'pause' ? { pauseSec: options.pauseSec } : {}),
    target:
      fault !== 'term'
        ? { newLeaderMsMax: NEW_LEADER_TARGET_MS, newLeaderMsMedian: NEW_LEADER_TARGET_MEDIAN_MS, met: ok.length > 0 && newLeader.max <= NEW_LEADER_TARGET_MS && newLeader.median <= NEW_LEADER_TARGET_MEDIAN_MS }
        : 'no election timeout: leadership handed over before the stop',
    reference: fault !== 'term' ? 'nats-streaming-server v0.25.3: new leader after 4.8-7.8 s' : '',
    serverErrorLines: runs.reduce((sum, run) => sum + run.errorLines.length, 0),
  };
}

const FAULT_NAMES: Record<FailoverFault, string> = { kill: 'SIGKILL leader', term: 'SIGTERM leader', pause: 'SIGSTOP leader' };

function printTable(summaries: ReadonlyArray<Record<string, unknown>>): void {
  const cell = (value: unknown): string => {
    const s = value as { median: number; min: number; max: number };
    if (Number.isNaN(s.median)) return '–';
    return `${s.median.toLocaleString('en-US')} (${s.min.toLocaleString('en-US')}–${s.max.toLocaleString('en-US')})`;
  };
  const lines = [
    '',
    '| fault | config | runs | new leader ms | longest ack gap ms | ack gap at the fault ms | first ack after the fault ms | republished | error PubAcks | stored twice | refused but stored | acked but missing | old leader exited ms | load avg | target |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const s of summaries) {
    const target = s['target'];
    const targetText = typeof target === 'string' ? target : `≤ ${NEW_LEADER_TARGET_MS} ms, median ≤ ${NEW_LEADER_TARGET_MEDIAN_MS} ms ${(target as { met: boolean }).met ? '✓' : '✗'} (reference 4.8–7.8 s)`;
    const loadAvg = s['loadAvg1'] as { median: number; min: number; max: number };
    lines.push(
      `| ${FAULT_NAMES[s['fault'] as FailoverFault]} | ${String(s['config'])} | ${String(s['runs'])}${Number(s['failedRuns']) > 0 ? ` (+${String(s['failedRuns'])} failed)` : ''} | ` +
        `${cell(s['newLeaderMs'])} | ${cell(s['longestAckGapMs'])} | ${cell(s['faultAckGapMs'])} | ${cell(s['firstAckAfterFaultMs'])} | ${cell(s['republished'])} | ${cell(s['ackErrors'])} | ${cell(s['storedTwice'])} | ${cell(s['refusedButStored'])} | ${cell(s['ackedButMissing'])} | ` +
        `${cell(s['exitedMs'])} | ${loadAvg.min}–${loadAvg.max} | ${targetText} |`,
    );
  }
  lines.push(
    '',
    'Medians over the runs (min–max). New leader: the signal until a surviving node reports in /streaming/clusterz that it',
    'leads and serves. Ack gaps: between consecutive PubAcks at the publisher (the gap spanning the signal, 0 if acks kept',
    'coming). Republished: publishes sent again after an error PubAck or no ack within the ack timeout. The publisher then',
    'reads the channel back: stored twice = copies beyond the first (both attempts committed: an outcome in doubt);',
    'refused but stored = committed attempts the server had answered with an error (false failures, should be 0); acked',
    'but missing = acknowledged messages the channel lacks (loss, must be 0). Load avg: 1-minute, at each run start.',
  );
  process.stdout.write(lines.join('\n') + '\n');
}

function printRun(build: ServerBuild, settings: RunSettings, outcome: FailoverRun): void {
  process.stdout.write(JSON.stringify({ suite: 'failover', type: 'run', build: build.label, clusterSync: settings.sync, ...outcome }) + '\n');
  const logged = outcome.errorLines.length > 0 ? `, ${outcome.errorLines.length} error lines in the node logs (kept in ${outcome.logsKeptIn})` : '';
  process.stderr.write(
    `failover ${outcome.fault} ${settings.sync ? 'cluster-sync' : 'cluster-nosync'} run ${outcome.run + 1}/${settings.runs} (load ${outcome.loadAvg1.toFixed(2)}): ` +
      `new leader ${outcome.newLeaderMs} ms, longest ack gap ${outcome.longestAckGapMs} ms, republished ${outcome.republished}, ${outcome.status}${logged}\n`,
  );
}

export async function runFailoverBench(options: FailoverBenchOptions = {}): Promise<Array<Record<string, unknown>>> {
  const print = options.print !== false;
  const common = {
    runs: options.runs ?? DEFAULTS.runs,
    durationSec: options.durationSec ?? DEFAULTS.durationSec,
    faultAfterSec: options.faultAfterSec ?? DEFAULTS.faultAfterSec,
    pauseSec: options.pauseSec ?? DEFAULTS.pauseSec,
    rate: options.rate ?? DEFAULTS.rate,
    window: options.window ?? DEFAULTS.window,
    ackTimeoutMs: options.ackTimeoutMs ?? DEFAULTS.ackTimeoutMs,
    pollMs: options.pollMs ?? DEFAULTS.pollMs,
  };
  const build = serverBuild(options.tstanRoot ?? ownRoot());
  const summaries: Array<Record<string, unknown>> = [];
  const sets = (options.syncs ?? [true]).flatMap((sync) => (options.faults ?? DEFAULT_FAULTS).map((fault) => ({ fault, settings: { ...common, sync } })));
  for (const { fault, settings } of sets) {
    const runs: FailoverRun[] = [];
    for (let run = 0; run < settings.runs; run++) {
      const outcome = await runOnce(build, fault, run, settings).catch((error: unknown) => failedRun(fault, run, error));
      runs.push(outcome);
      if (print) printRun(build, settings, outcome);
    }
    const summary = { ...summarize(fault, runs, settings), build: build.label };
    summaries.push(summary);
    if (print) process.stdout.write(JSON.stringify(summary) + '\n');
  }
  if (print) printTable(summaries);
  return summaries;
}

export const FAILOVER_BENCH_USAGE = `a 3-node cluster loses its leader while a publisher on a follower runs.
  --faults kill,term,pause  SIGKILL, SIGTERM, SIGSTOP (for --pause-s, default ${DEFAULTS.pauseSec}) of the leader (default kill,term)
  --runs N                  runs per fault, median reported (default ${DEFAULTS.runs})
  --cluster-sync true,false --cluster_sync of the nodes (default true only)
  --rate N --window N --ack-timeout-ms N   the publisher (default ${DEFAULTS.rate} msgs/s, ${DEFAULTS.window}, ${DEFAULTS.ackTimeoutMs} ms)
  --duration-s N --fault-after-s N         publishing time and when the leader is hit (default ${DEFAULTS.durationSec}, ${DEFAULTS.faultAfterSec})
  --tstan-root DIR          run the servers from DIR/dist`;

/** The flags failoverBenchOptionsFromArgs reads. */
export const FAILOVER_BENCH_FLAGS: Readonly<Record<string, FlagKind>> = {
  faults: 'value', 'cluster-sync': 'value', runs: 'value', rate: 'value', window: 'value', 'ack-timeout-ms': 'value',
  'duration-s': 'value', 'fault-after-s': 'value', 'pause-s': 'value', 'tstan-root': 'value',
};

export function failoverBenchOptionsFromArgs(argv: readonly string[]): FailoverBenchOptions {
  const options: Record<string, unknown> = {};
  const set = (key: keyof FailoverBenchOptions, value: unknown): void => {
    if (value !== undefined) options[key] = value;
  };
  const faults = flagValue(argv, 'faults')?.split(',');
  const unknown = faults?.filter((fault) => !FAILOVER_FAULTS.includes(fault as FailoverFault)) ?? [];
  if (unknown.length > 0) throw new Error(`--faults: unknown ${unknown.join(', ')}; known: ${FAILOVER_FAULTS.join(', ')}`);
  set('faults', faults);
  const syncs = flagValue(argv, 'cluster-sync')?.split(',');
  if (syncs?.some((sync) => sync !== 'true' && sync !== 'false')) throw new Error(`--cluster-sync takes true and/or false, got ${syncs.join(',')}`);
  set('syncs', syncs?.map((sync) => sync === 'true'));
  set('runs', numberFlag(argv, 'runs'));
  set('rate', numberFlag(argv, 'rate'));
  set('window', numberFlag(argv, 'window'));
  set('ackTimeoutMs', numberFlag(argv, 'ack-timeout-ms'));
  set('durationSec', numberFlag(argv, 'duration-s'));
  set('faultAfterSec', numberFlag(argv, 'fault-after-s'));
  set('pauseSec', numberFlag(argv, 'pause-s'));
  set('tstanRoot', flagValue(argv, 'tstan-root'));
  return options as FailoverBenchOptions;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`node dist/bench/failover.js [flags]: ${FAILOVER_BENCH_USAGE}\n`);
  } else {
    runFailoverBench(failoverBenchOptionsFromArgs(argv)).catch((error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    });
  }
}
