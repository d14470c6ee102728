// W1-W4 against a standalone tstan (MEMORY, and FILE with fsync on) or a 3-node cluster
// (bench/deployments.ts), each run on fresh server processes and fresh data directories, with the
// client as a process of its own: the C program on
// libnats (bench/c), the lean TypeScript client and node-nats-streaming. Every run reports the
// client's CPU beside the server's, so a saturated client shows. Each figure is the median of
// `runs` runs. With `vsRoot` the same runs go alternately against two builds and the table gives
// their ratios. `node dist/bench/stan.js --help` lists the flags; `runStanBench` is the API.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareClients, runClient, type ClientProgram } from './client-programs.js';
import { CLIENT_KINDS, WORKLOADS, messageCount, resultProblems, type ClientKind, type ClientResult, type WorkloadName } from './client-result.js';
import {
  CLUSTER_CLIENT_NODES,
  clusterConfigs,
  jetStreamConfig,
  natsServerVersion,
  standaloneConfig,
  type BenchConfig,
  type Deployment,
  type ServerFindings,
} from './deployments.js';
import { clusterTarget, describeReference } from './reference-figures.js';
import { latencyKeysOf, printComparison, printTable, type Row } from './stan-report.js';
import { STORE_KINDS, ownRoot, serverBuild, withServerFlags, type ServerBuild, type StoreKind } from './tstan-server.js';
import { flagValue, numberFlag, type FlagKind } from './flags.js';
import { floorJsonLines, formatLoopbackFloor, measureLoopbackFloor, type LoopbackFloor } from './loopback-floor.js';

export interface StanBenchOptions {
  /** Runs per workload, client and build; the median is reported (default 3, 9 with vsRoot). */
  readonly runs?: number;
  /** Multiplies every message count (1 = 100k/5k/100k/20k); smaller for a quick look. */
  readonly scale?: number;
  readonly workloads?: readonly WorkloadName[];
  readonly stores?: readonly StoreKind[];
  /** What to run against instead of the standalone `stores` (e.g. the cluster configurations). */
  readonly configs?: readonly BenchConfig[];
  readonly clients?: readonly ClientKind[];
  /** The checkout whose dist/ runs as the server (default: this one). */
  readonly tstanRoot?: string;
  /** A second checkout to compare with: runs alternate between the two, ratios are printed. */
  readonly vsRoot?: string;
  /** Alternate builds and clients run by run instead of running each one's runs back to back. */
  readonly interleave?: boolean;
  /** tstan flags for this build's standalone servers, and for the --vs build's (e.g. `-encrypt ...`). */
  readonly serverFlags?: readonly string[];
  readonly vsServerFlags?: readonly string[];
  /** Per client run. */
  readonly timeoutSec?: number;
  /** Print JSON lines, the table and progress (default true). */
  readonly print?: boolean;
  /** Name in the JSON lines. */
  readonly suite?: string;
  /**
   * Beside the standalone stores, Debian's nats-server with JetStream through the C client, for
   * scale (default: when it is installed, the C client runs and no build is compared).
   */
  readonly jetstream?: boolean;
  /**
   * Before the standalone runs, W2's floor on this machine (loopback-floor.ts), printed after the
   * table (default: when W2 runs with the C client and the table is printed).
   */
  readonly loopbackFloor?: boolean;
}

interface Arm {
  readonly build: ServerBuild;
  readonly program: ClientProgram;
}

type Sample = Record<string, number>;

/** What one server node used while the client ran: over the timed interval and over the whole client. */
interface NodeUseOfRun {
  readonly role: string;
  readonly cpuSec: number;
  /** Its main thread's share of cpuSec, when the node gives it (a tstan's, not nats-server's). */
  readonly mainCpuSec?: number;
  readonly cpuTotalSec: number;
  readonly peakRssMb: number;
}

/**
 * The numeric fields of a client's result plus what the servers used meanwhile: summed over the
 * nodes (CPU) or their maximum (RSS), and in a cluster each node's by role (serverCpuSecL, ...).
 * serverMainCpuSec and serverMainCpuUsPerMsg, the main threads' part, only when every node has one.
 */
function sampleOf(result: ClientResult, nodes: readonly NodeUseOfRun[], loadAvg1: number): Sample {
  const sample: Sample = { loadAvg1 };
  for (const [key, value] of Object.entries(result)) if (typeof value === 'number') sample[key] = value;
  const cpuSec = nodes.reduce((sum, node) => sum + node.cpuSec, 0);
  sample['clientCores'] = result.seconds > 0 ? result.clientCpuSec / result.seconds : 0;
  sample['clientCpuUsPerMsg'] = (result.clientCpuSec * 1e6) / result.messages;
  sample['serverCpuSec'] = cpuSec;
  sample['serverCpuUsPerMsg'] = (cpuSec * 1e6) / result.messages;
  const mainCpuSecs = nodes.map((node) => node.mainCpuSec);
  if (nodes.length > 0 && mainCpuSecs.every((value): value is number => value !== undefined)) {
    const mainCpuSec = mainCpuSecs.reduce((sum, value) => sum + value, 0);
    sample['serverMainCpuSec'] = mainCpuSec;
    sample['serverMainCpuUsPerMsg'] = (mainCpuSec * 1e6) / result.messages;
  }
  sample['serverCpuTotalSec'] = nodes.reduce((sum, node) => sum + node.cpuTotalSec, 0);
  sample['serverPeakRssMb'] = Math.max(...nodes.map((node) => node.peakRssMb));
  for (const node of nodes) {
    if (node.role === '') continue;
    sample[`serverCpuSec${node.role}`] = node.cpuSec;
    sample[`serverPeakRssMb${node.role}`] = node.peakRssMb;
  }
  return sample;
}

/** CPU seconds of every node at one moment: all threads, and the main thread's where a node gives it. */
interface CpuMark {
  readonly all: number[];
  readonly main: Array<number | undefined>;
}

/**
 * What every node of `deployment` used: CPU between the marks (all threads and the main thread's)
 * and over the client, peak RSS.
 */
function nodeUses(deployment: Deployment, before: readonly number[], marks: Record<string, CpuMark>): NodeUseOfRun[] {
  return deployment.nodes.map((node, i) => {
    const start = marks['start'];
    const end = marks['end'];
    const mainStart = start?.main[i];
    const mainEnd = end?.main[i];
    return {
      role: node.role,
      cpuSec: (end?.all[i] ?? Number.NaN) - (start?.all[i] ?? Number.NaN),
      ...(mainStart !== undefined && mainEnd !== undefined ? { mainCpuSec: mainEnd - mainStart } : {}),
      cpuTotalSec: node.cpuSeconds() - before[i]!,
      peakRssMb: node.peakRssMb(),
    };
  });
}

/**
 * One run: a fresh deployment, the client process. Every node's CPU is read when the client marks
 * the start and the end of its timed interval (with its main thread's, where the node gives it),
 * and before and after the client process.
 */
async function runSample(arm: Arm, config: BenchConfig, workload: WorkloadName, count: number, runIndex: number, timeoutSec: number) {
  // Others share the machine: the load when the run starts goes with its figures.
  const loadAvg1 = loadavg()[0]!;
  const deployment = await config.start(arm.build);
  try {
    const cpuNow = (): number[] => deployment.nodes.map((node) => node.cpuSeconds());
    const before = cpuNow();
    const marks: Record<string, CpuMark> = {};
    const onMark = (what: string): void => {
      marks[what] = { all: cpuNow(), main: deployment.nodes.map((node) => node.mainThreadCpuSeconds?.()) };
    };
    const run = await runClient(arm.program, deployment.url, workload, count, `bench${runIndex}`, timeoutSec, onMark, config.clientArgs);
    const nodes = nodeUses(deployment, before, marks);
    const warm = workload === 'W2' && run.result !== null && run.exitCode === 0 ? await warmLatency(arm, config, deployment, count, runIndex, timeoutSec) : {};
    const findings = await deployment.findings();
    if (run.result === null) return { clientName: arm.program.kind as string, sample: null, problems: [run.failure], findings };
    const problems = resultProblems(run.result, count);
    if (problems.length === 0 && run.failure !== '') problems.push(run.failure);
    if (problems.length === 0 && nodes.some((node) => Number.isNaN(node.cpuSec))) problems.push('the client printed no MARK start/end lines');
    return { clientName: run.result.client, sample: problems.length === 0 ? { ...sampleOf(run.result, nodes, loadAvg1), ...warm } : null, problems, findings };
  } finally {
    await deployment.stop();
  }
}

/** W2 runs on the same server after the measured one, of which the last gives the warm figures. */
const WARM_W2_RUNS = 3;

/**
 * W2's latency once the server is warm: a fresh process spends its first few thousand
 * requests optimizing its code (V8 compiles on other threads, which on two cores take CPU from
 * the client and the server), and that sets its p99. The measured run stays the figure, as
 * defined; these say what a server that has been up a while answers. Nothing when a run fails.
 */
async function warmLatency(arm: Arm, config: BenchConfig, deployment: Deployment, count: number, runIndex: number, timeoutSec: number): Promise<Sample> {
  let last: ClientResult | null = null;
  for (let i = 1; i <= WARM_W2_RUNS; i++) {
    const run = await runClient(arm.program, deployment.url, 'W2', count, `bench${runIndex}warm${i}`, timeoutSec, undefined, config.clientArgs);
    if (run.result === null || run.exitCode !== 0 || resultProblems(run.result, count).length > 0) return {};
    last = run.result;
  }
  const warm: Sample = {};
  for (const key of ['p50Ms', 'p90Ms', 'p99Ms', 'maxMs'] as const) {
    const value = last?.[key];
    if (typeof value === 'number') warm[`warm${key[0]!.toUpperCase()}${key.slice(1)}`] = value;
  }
  return warm;
}

interface FindingsOfRuns {
  readonly errorLines: string[];
  readonly notes: string[];
  readonly logsKeptIn: string[];
}

function collectFindings(into: FindingsOfRuns, findings: ServerFindings): void {
  into.errorLines.push(...findings.errorLines);
  into.notes.push(...findings.notes);
  if (findings.logsKeptIn !== undefined) into.logsKeptIn.push(findings.logsKeptIn);
}

/** For the progress line: ` (2 error lines in the server logs; leadership changed ...; logs kept in ...)`. */
function describeFindings(findings: ServerFindings): string {
  const parts = [...(findings.errorLines.length > 0 ? [`${findings.errorLines.length} error lines in the server logs`] : []), ...findings.notes];
  if (findings.logsKeptIn !== undefined) parts.push(`logs kept in ${findings.logsKeptIn}`);
  return parts.length > 0 ? ` (${parts.join('; ')})` : '';
}

/** The row's fields for what the servers showed over all runs; none when nothing. */
function findingFields(findings: FindingsOfRuns): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  if (findings.errorLines.length > 0) {
    fields['serverErrorLines'] = findings.errorLines.length;
    fields['serverErrorExamples'] = findings.errorLines.slice(0, 3).map((line) => line.slice(0, 300));
  }
  if (findings.notes.length > 0) fields['serverNotes'] = findings.notes.slice(0, 3);
  if (findings.logsKeptIn.length > 0) fields['serverLogsKeptIn'] = findings.logsKeptIn;
  return fields;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function round(value: number): number {
  return Math.abs(value) >= 100 ? Math.round(value) : Number(value.toPrecision(4));
}

function aggregate(samples: readonly Sample[]): Record<string, number> {
  const out: Record<string, number> = {};
  if (samples.length === 0) return out;
  const keys = new Set(samples.flatMap((s) => Object.keys(s)));
  // Over the runs that have the field (the warm W2 figures may be missing from some; the
  // main-thread figures are in every run of a tstan and in none of nats-server's).
  for (const key of keys) out[key] = round(median(samples.map((s) => s[key]).filter((v): v is number => v !== undefined)));
  const rates = samples.map((s) => s['msgsPerSec'] ?? 0);
  out['msgsPerSecMin'] = round(Math.min(...rates));
  out['msgsPerSecMax'] = round(Math.max(...rates));
  return out;
}

/** The metrics whose A/B ratios a comparison reports, by the workload's latency fields. */
function comparedMetrics(workload: WorkloadName): Record<string, string> {
  const [p50, p99] = latencyKeysOf(workload);
  return { msgsPerSec: 'msgsPerSec', latencyP50: p50, latencyP99: p99, serverCpuUsPerMsg: 'serverCpuUsPerMsg', serverMainCpuUsPerMsg: 'serverMainCpuUsPerMsg' };
}

/**
 * Ratios A/B of runs made one after the other (run i of A against run i of B): load from other
 * work on the machine drifts over minutes, so neighbours in time share most of it and their ratio
 * is steadier than the ratio of the two medians. Median and range over the pairs.
 */
function pairedRatios(a: ReadonlyArray<Sample | null>, b: ReadonlyArray<Sample | null>, workload: WorkloadName): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, key] of Object.entries(comparedMetrics(workload))) {
    const ratios: number[] = [];
    a.forEach((sampleA, run) => {
      const x = sampleA?.[key];
      const y = b[run]?.[key];
      if (x !== undefined && y !== undefined && y > 0) ratios.push(x / y);
    });
    if (ratios.length === 0) continue;
    out[`paired_${name}`] = Number(median(ratios).toFixed(3));
    out[`paired_${name}Min`] = Number(Math.min(...ratios).toFixed(3));
    out[`paired_${name}Max`] = Number(Math.max(...ratios).toFixed(3));
  }
  return out;
}

function progress(print: boolean, text: string): void {
  if (print) process.stderr.write(`${text}\n`);
}

export async function runStanBench(options: StanBenchOptions = {}): Promise<Row[]> {
  const print = options.print !== false;
  const compare = options.vsRoot !== undefined;
  const runs = options.runs ?? (compare ? 9 : 3);
  const scale = options.scale ?? 1;
  const timeoutSec = options.timeoutSec ?? 120;
  const interleave = options.interleave ?? compare;
  const builds = [withServerFlags(serverBuild(options.tstanRoot ?? ownRoot()), options.serverFlags ?? [])];
  if (options.vsRoot !== undefined) {
    const other = withServerFlags(serverBuild(options.vsRoot), options.vsServerFlags ?? []);
    // The same checkout on both sides (a noise check) still needs two names.
    builds.push(other.label === builds[0]!.label ? { ...other, label: `${other.label}#2` } : other);
  }
  const prepared = await prepareClients(options.clients ?? CLIENT_KINDS);
  for (const reason of prepared.skipped) progress(print, `skipping client ${reason}`);
  const allArms: Arm[] = builds.flatMap((build) => prepared.programs.map((program) => ({ build, program })));
  const configs = options.configs ?? standaloneConfigs(options, compare, prepared.programs, print);
  const workloads = options.workloads ?? WORKLOADS;
  const floors =
    print && options.loopbackFloor !== false && options.configs === undefined && workloads.includes('W2') && prepared.programs.some((p) => p.kind === 'c')
      ? await loopbackFloor(messageCount('W2', scale))
      : undefined;
  const rows: Row[] = [];
  try {
    for (const config of configs) {
      for (const workload of workloads) {
        const count = messageCount(workload, scale);
        // A server that is not a tstan runs once, whatever the builds; some take only some clients.
        const arms = allArms.filter(
          (arm) => (!config.buildIndependent || arm.build === builds[0]) && (config.clients === undefined || config.clients.includes(arm.program.kind)),
        );
        if (arms.length === 0) continue;
        const byRun = arms.map(() => new Array<Sample | null>(runs).fill(null));
        const problems = arms.map(() => [] as string[]);
        const findings = arms.map(() => ({ errorLines: [] as string[], notes: [] as string[], logsKeptIn: [] as string[] }));
        const clientNames = arms.map((arm) => arm.program.kind as string);
        const order = interleave
          ? Array.from({ length: runs }, (_, run) => arms.map((_, armIndex) => ({ armIndex, run }))).flat()
          : arms.flatMap((_, armIndex) => Array.from({ length: runs }, (_, run) => ({ armIndex, run })));
        for (const { armIndex, run } of order) {
          const arm = arms[armIndex]!;
          // A deployment that does not start, or a node that dies mid-run, fails this run only.
          const outcome = await runSample(arm, config, workload, count, run, timeoutSec).catch((error: unknown) => ({
            clientName: arm.program.kind as string,
            sample: null,
            problems: [`run failed: ${error instanceof Error ? error.message : String(error)}`],
            findings: { errorLines: [], notes: [] } as ServerFindings,
          }));
          clientNames[armIndex] = outcome.clientName;
          byRun[armIndex]![run] = outcome.sample;
          if (outcome.sample === null) problems[armIndex]!.push(...outcome.problems);
          collectFindings(findings[armIndex]!, outcome.findings);
          const rate = outcome.sample === null ? `FAILED: ${outcome.problems.join('; ')}` : `${Math.round(outcome.sample['msgsPerSec'] ?? 0).toLocaleString('en-US')} msgs/s`;
          const logged = describeFindings(outcome.findings);
          progress(print, `${workload} ${config.key} ${arm.program.kind} ${arm.build.label} run ${run + 1}/${runs}: ${rate}${logged}`);
        }
        const samples = byRun.map((list) => list.filter((sample): sample is Sample => sample !== null));
        arms.forEach((arm, armIndex) => {
          const row: Row = {
            suite: options.suite ?? 'stan',
            workload,
            config: config.name,
            configKey: config.key,
            store: config.store,
            client: clientNames[armIndex]!,
            clientKind: arm.program.kind,
            build: arm.build.label,
            runs: samples[armIndex]!.length,
            failedRuns: runs - samples[armIndex]!.length,
            scale,
            ...aggregate(samples[armIndex]!),
            reference: describeReference(arm.program.kind, config.reference, workload),
          };
          const target = clusterTarget(config.reference, workload);
          if (target !== undefined && samples[armIndex]!.length > 0) {
            row['target'] = target.text;
            row['targetMet'] = target.met(Number(row['msgsPerSec']), Number(row['p50Ms'] ?? 0));
          }
          if (problems[armIndex]!.length > 0) row['problems'] = problems[armIndex]!.slice(0, 3);
          Object.assign(row, findingFields(findings[armIndex]!));
          // The same program on build B, for build A's row.
          const other = arm.build === builds[0] ? arms.findIndex((o) => o.program === arm.program && o.build !== arm.build) : -1;
          if (compare && other >= 0) Object.assign(row, pairedRatios(byRun[armIndex]!, byRun[other]!, workload));
          rows.push(row);
          if (print) process.stdout.write(JSON.stringify(row) + '\n');
        });
      }
    }
  } finally {
    prepared.dispose();
  }
  if (print) {
    if (compare) printComparison(rows, builds[0]!.label, builds[1]!.label);
    else printTable(rows);
    if (floors !== undefined) process.stdout.write(formatLoopbackFloor(floors));
  }
  return rows;
}

/** W2's floor, its JSON lines printed; undefined (and said why) when it cannot be measured. */
async function loopbackFloor(count: number): Promise<LoopbackFloor[] | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'tstan-bench-floor-'));
  try {
    const floors = await measureLoopbackFloor(dir, count);
    if ('error' in floors) {
      progress(true, `W2's loopback floor not measured: ${floors.error}`);
      return undefined;
    }
    for (const line of floorJsonLines(floors)) process.stdout.write(line + '\n');
    return floors;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The standalone stores asked for and, for scale, nats-server's JetStream on the same stores. */
function standaloneConfigs(options: StanBenchOptions, compare: boolean, programs: readonly ClientProgram[], print: boolean): BenchConfig[] {
  const stores = options.stores ?? STORE_KINDS;
  const configs = stores.map(standaloneConfig);
  if (options.jetstream === false || compare || !programs.some((program) => program.kind === 'c')) return configs;
  const version = natsServerVersion();
  if (version === undefined) {
    progress(print, 'no nats-server here (apt-get install nats-server): JetStream is not run beside tstan');
    return configs;
  }
  return [...configs, ...stores.map((store) => jetStreamConfig(store, version))];
}

function listFlag<T extends string>(argv: readonly string[], name: string, allowed: readonly T[]): T[] | undefined {
  const text = flagValue(argv, name);
  if (text === undefined) return undefined;
  // Case does not matter: `--stores file` is FILE, `--workloads w3` is W3.
  const given = text.split(',').map((v) => v.trim());
  const values = given.map((v) => allowed.find((known) => known.toLowerCase() === v.toLowerCase()));
  const unknown = given.filter((_, i) => values[i] === undefined);
  if (unknown.length > 0) throw new Error(`--${name}: unknown ${unknown.join(', ')}; known: ${allowed.join(', ')}`);
  return values as T[];
}

export const STAN_BENCH_USAGE = `W1-W4 against a standalone tstan, clients as their own processes.
  --workloads W1,W2,W3,W4   which workloads (default all)
  --stores MEMORY,FILE      which stores (default both; FILE fsyncs, the default)
  --clients c,lean,node     which clients (c: libnats, lean: our TypeScript client, node: node-nats-streaming)
  --runs N                  runs per figure, median reported (default 3; 9 with --vs)
  --scale F                 multiplies the message counts (default 1)
  --tstan-root DIR          run the server from DIR/dist (default: this checkout)
  --vs DIR                  also run DIR/dist, alternating run by run; prints ratios (this / DIR)
  --interleave              alternate builds and clients run by run (implied by --vs)
  --no-jetstream            skip nats-server's JetStream, which otherwise runs with the C client for scale
                            when nats-server is installed and no build is compared
  --no-floor                skip W2's loopback floor (round trips to an echo server in C and in Node.js),
                            which otherwise runs first when W2 runs with the C client
  --timeout-s N             per client run (default 120)
  --server-flags "F ..."    extra tstan flags for this build's standalone servers (e.g. "-encrypt -encryption_key k");
                            a flag written node:F goes to node instead (e.g. node:--max-semi-space-size=1)
  --vs-server-flags "F ..." the same for the --vs build: --vs . with flags on one side compares two configurations
The cluster suite (3 nodes, FILE) instead of --stores:
  --cluster-sync true,false  --cluster_sync on (the default: fsync on a majority) and/or off (default both)
  --client-node follower,leader  which node the client connects to (default both)`;

/** The flags stanBenchOptionsFromArgs and clusterConfigsFromArgs read. */
export const STAN_BENCH_FLAGS: Readonly<Record<string, FlagKind>> = {
  workloads: 'value', stores: 'value', clients: 'value', runs: 'value', scale: 'value', 'timeout-s': 'value', 'tstan-root': 'value',
  'server-flags': 'value', 'vs-server-flags': 'value', vs: 'value', interleave: 'switch', 'no-jetstream': 'switch',
  'cluster-sync': 'value', 'client-node': 'value', 'no-floor': 'switch',
};

/** The cluster configurations the flags above ask for. */
export function clusterConfigsFromArgs(argv: readonly string[]): BenchConfig[] {
  const syncs = listFlag(argv, 'cluster-sync', ['true', 'false'] as const)?.map((value) => value === 'true');
  return clusterConfigs(syncs, listFlag(argv, 'client-node', CLUSTER_CLIENT_NODES));
}

/** The flags above; `defaults` fills what the command line leaves out. */
export function stanBenchOptionsFromArgs(argv: readonly string[], defaults: StanBenchOptions = {}): StanBenchOptions {
  const options: Record<string, unknown> = { ...defaults };
  const set = (key: keyof StanBenchOptions, value: unknown): void => {
    if (value !== undefined) options[key] = value;
  };
  set('workloads', listFlag(argv, 'workloads', WORKLOADS));
  set('stores', listFlag(argv, 'stores', STORE_KINDS));
  set('clients', listFlag(argv, 'clients', CLIENT_KINDS));
  set('runs', numberFlag(argv, 'runs'));
  set('scale', numberFlag(argv, 'scale'));
  set('timeoutSec', numberFlag(argv, 'timeout-s'));
  set('tstanRoot', flagValue(argv, 'tstan-root'));
  set('serverFlags', flagValue(argv, 'server-flags')?.split(' ').filter((word) => word !== ''));
  set('vsServerFlags', flagValue(argv, 'vs-server-flags')?.split(' ').filter((word) => word !== ''));
  set('vsRoot', flagValue(argv, 'vs'));
  if (argv.includes('--interleave')) options['interleave'] = true;
  if (argv.includes('--no-jetstream')) options['jetstream'] = false;
  if (argv.includes('--no-floor')) options['loopbackFloor'] = false;
  return options as StanBenchOptions;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`node dist/bench/stan.js [flags]: ${STAN_BENCH_USAGE}\n`);
  } else {
    runStanBench(stanBenchOptionsFromArgs(argv)).catch((error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    });
  }
}
