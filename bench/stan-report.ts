// The tables `bench/stan.ts` prints after its JSON lines: one row per workload, configuration and
// client with the client's CPU beside the server's (per node in a cluster, and the main thread's
// part for tstan) and the reference server's figures; or, comparing two builds, their medians side
// by side with ratios (this build / the other). formatTable and formatComparison give the text.

/** One JSON line of the STAN benchmark: medians of the runs of one workload, configuration, client, build. */
export type Row = Record<string, unknown>;

/** A client using this many cores or more is likely what limits the figure. */
const CLIENT_BOUND_CORES = 0.9;

function num(row: Row, key: string): number {
  return Number(row[key] ?? 0);
}

function fmt(value: number): string {
  if (value >= 1000) return Math.round(value).toLocaleString('en-US');
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(value >= 1 ? 2 : 3);
}

function ratio(a: number, b: number): string {
  return b > 0 ? (a / b).toFixed(3) : '–';
}

/** The latency fields of a workload's result: PubAck, sync publish or end to end. */
export function latencyKeysOf(workload: string): [p50: string, p99: string] {
  switch (workload) {
    case 'W1':
      return ['ackP50Ms', 'ackP99Ms'];
    case 'W2':
      return ['p50Ms', 'p99Ms'];
    default:
      return ['e2eP50Ms', 'e2eP99Ms'];
  }
}

function latency(row: Row): { p50: number; p99: number; label: string } {
  const [p50, p99] = latencyKeysOf(String(row['workload']));
  const label = row['workload'] === 'W1' ? 'ack' : row['workload'] === 'W2' ? 'sync' : 'e2e';
  return { p50: num(row, p50), p99: num(row, p99), label };
}

/** ` · warm p50 x / p99 y ms` (W2 on the same server after 3 more runs), when measured. */
function warmW2(row: Row): string {
  if (row['warmP50Ms'] === undefined) return '';
  return ` · warm p50 ${fmt(num(row, 'warmP50Ms'))} / p99 ${fmt(num(row, 'warmP99Ms'))} ms`;
}

function summary(row: Row): string {
  if (num(row, 'runs') === 0) return `FAILED: ${String((row['problems'] as string[] | undefined)?.[0] ?? '')}`;
  const rate = `${fmt(num(row, 'msgsPerSec'))} msgs/s`;
  const { p50, p99, label } = latency(row);
  switch (row['workload']) {
    case 'W2':
      return `p50 ${fmt(p50)} / p90 ${fmt(num(row, 'p90Ms'))} / p99 ${fmt(p99)} / max ${fmt(num(row, 'maxMs'))} ms · ${rate}${warmW2(row)}`;
    case 'W4':
      return `${rate} · ${fmt(num(row, 'deliveredPerSec'))} delivered/s · ${label} p50 ${fmt(p50)} / p99 ${fmt(p99)} ms`;
    default:
      return `${rate} · ${label} p50 ${fmt(p50)} / p99 ${fmt(p99)} ms`;
  }
}

/**
 * Near a whole core the client is saturated. On a loaded machine neither process gets a whole
 * core, so a client that burns at least the server's CPU over the same interval is flagged too:
 * it is then as likely as the server to be what limits the figure.
 */
function clientCpu(row: Row): string {
  const cores = num(row, 'clientCores');
  let mark = '';
  if (cores >= CLIENT_BOUND_CORES) mark = ' ⚠ client-bound';
  else if (num(row, 'clientCpuSec') >= num(row, 'serverCpuSec')) mark = ' ⚠ client CPU ≥ server CPU';
  return `${fmt(num(row, 'clientCpuSec'))} s = ${cores.toFixed(2)} cores${mark}`;
}

/** The node roles of a cluster row (L, F1, F2), none for a standalone one. */
const CLUSTER_ROLES = ['L', 'F1', 'F2'] as const;

function isClustered(row: Row): boolean {
  return row['serverCpuSecL'] !== undefined;
}

/** Standalone: the server's CPU s; cluster: the sum, then each node's. */
function serverCpu(row: Row): string {
  const total = fmt(num(row, 'serverCpuSec'));
  if (!isClustered(row)) return total;
  return `Σ ${total} (${CLUSTER_ROLES.map((role) => `${role} ${fmt(num(row, `serverCpuSec${role}`))}`).join(' · ')})`;
}

function hasMainThread(row: Row): boolean {
  return row['serverMainCpuUsPerMsg'] !== undefined;
}

/** `40.0 (main thread 25.5)`: all threads' µs/msg, then the main thread's where measured (tstan). */
function serverUsPerMsg(row: Row): string {
  const all = fmt(num(row, 'serverCpuUsPerMsg'));
  return hasMainThread(row) ? `${all} (main thread ${fmt(num(row, 'serverMainCpuUsPerMsg'))})` : all;
}

function serverRss(row: Row): string {
  if (!isClustered(row)) return fmt(num(row, 'serverPeakRssMb'));
  return CLUSTER_ROLES.map((role) => `${role} ${Math.round(num(row, `serverPeakRssMb${role}`))}`).join(' · ');
}

function target(row: Row): string {
  if (row['target'] === undefined) return '–';
  return `${String(row['target'])} ${row['targetMet'] === true ? '✓' : '✗'}`;
}

/** The table of `rows` with its footnotes, as printTable prints it. */
export function formatTable(rows: readonly Row[]): string {
  const clustered = rows.some(isClustered);
  const lines = [
    '',
    `| configuration | workload | client | tstan (median) | client CPU | server CPU s | server µs/msg${clustered ? ' (Σ nodes)' : ''} | server peak RSS MB | reference server |${clustered ? ' target |' : ''}`,
    `|---|---|---|---|---:|---:|---:|---:|---|${clustered ? '---|' : ''}`,
  ];
  for (const row of rows) {
    lines.push(
      `| ${String(row['config'])} | ${String(row['workload'])} | ${String(row['client'])} | ${summary(row)} | ${clientCpu(row)} | ` +
        `${serverCpu(row)} | ${serverUsPerMsg(row)} | ${serverRss(row)} | ${String(row['reference'])} |` +
        (clustered ? ` ${target(row)} |` : ''),
    );
  }
  const loads = rows.filter((row) => row['loadAvg1'] !== undefined).map((row) => num(row, 'loadAvg1'));
  if (loads.length > 0) lines.push('', `Load average (1 min) when the runs started: ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} (medians per row).`);
  if (clustered) {
    lines.push(
      '',
      'Cluster rows: L is the leader, F1 the follower the client is connected to (with the client on a follower), F2 the',
      'other follower. Server CPU and µs/msg are summed over the three nodes, RSS is per node. The reference cluster was',
      'measured with node-nats-streaming only; targets (docs/benchmarks.md §6, issue 11): durable at least the reference',
      "with --cluster_sync and W2 p50 ≤ 1.2 ms, --cluster_sync=false at least the reference's default figures.",
    );
  }
  lines.push(
    '',
    'client CPU: the client process over the timed interval, in seconds and in cores (CPU s / wall s); near 1 core a',
    'single-threaded client (lean, node-nats-streaming) is the bottleneck, not the server; on a loaded machine, a client',
    'using as much CPU as the server is suspect too (both marked ⚠). Server CPU is over the same',
    'timed interval; µs/msg divides it by the messages published (serverCpuTotalSec in the JSON adds connects and',
    'closes). The server CPU clock ticks every 10 ms: small --scale runs give coarse µs/msg. Reference: nats-streaming-server',
    'v0.25.3 on a comparable 2-core machine, with node-nats-streaming for that client and a Go client for the fast ones.',
  );
  if (rows.some(hasMainThread)) {
    lines.push(
      '',
      "server µs/msg (main thread x): x is the JavaScript thread's part; the rest is V8's optimizing compiler and GC threads",
      "and libuv's threadpool (fsync), much of it a fixed cost of a fresh process, so short runs show a higher µs/msg.",
    );
  }
  return lines.join('\n') + '\n';
}

export function printTable(rows: readonly Row[]): void {
  process.stdout.write(formatTable(rows));
}

/** `median (min–max)` of the paired ratios of `name` in row A, or '–' without pairs. */
function paired(row: Row, name: string): string {
  if (row[`paired_${name}`] === undefined) return '–';
  return `${num(row, `paired_${name}`).toFixed(3)} (${num(row, `paired_${name}Min`).toFixed(2)}–${num(row, `paired_${name}Max`).toFixed(2)})`;
}

/** `40.0 / 41.0`, with ` (main thread 25.5 / 26.0)` when both rows have the main thread's. */
function serverUsPerMsgAB(a: Row, b: Row): string {
  const all = `${fmt(num(a, 'serverCpuUsPerMsg'))} / ${fmt(num(b, 'serverCpuUsPerMsg'))}`;
  if (!hasMainThread(a) || !hasMainThread(b)) return all;
  return `${all} (main thread ${fmt(num(a, 'serverMainCpuUsPerMsg'))} / ${fmt(num(b, 'serverMainCpuUsPerMsg'))})`;
}

/** The paired ratio of all threads' µs/msg, then the main thread's where there are pairs of it. */
function pairedServerUsPerMsg(row: Row): string {
  const all = paired(row, 'serverCpuUsPerMsg');
  return row['paired_serverMainCpuUsPerMsg'] === undefined ? all : `${all} · main thread ${paired(row, 'serverMainCpuUsPerMsg')}`;
}

/** Ratio lines (JSON) and a table of build A against build B for every workload, configuration and client. */
export function formatComparison(rows: readonly Row[], labelA: string, labelB: string): string {
  const byKey = new Map<string, { a?: Row; b?: Row }>();
  for (const row of rows) {
    const key = `${String(row['configKey'])}|${String(row['workload'])}|${String(row['clientKind'])}`;
    const pair = byKey.get(key) ?? {};
    if (row['build'] === labelA) pair.a = row;
    else if (row['build'] === labelB) pair.b = row;
    byKey.set(key, pair);
  }
  const lines = [
    '',
    `A = ${labelA}, B = ${labelB}. Medians of the runs, msgs/s with their range; ratios A/B: of the medians, and`,
    'paired (each run of A against the run of B next to it in time: median and range), which shared load disturbs least.',
    '',
    '| configuration | workload | client | msgs/s A | msgs/s B | A/B | A/B paired | latency p50/p99 ms A | B | A/B p50 paired | server µs/msg A / B | A/B paired | client cores A / B |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const ratioLines: string[] = [];
  for (const { a, b } of byKey.values()) {
    if (a === undefined || b === undefined) continue;
    const la = latency(a);
    const lb = latency(b);
    const rate = (row: Row): string => `${fmt(num(row, 'msgsPerSec'))} (${fmt(num(row, 'msgsPerSecMin'))}–${fmt(num(row, 'msgsPerSecMax'))})`;
    lines.push(
      `| ${String(a['config'])} | ${String(a['workload'])} | ${String(a['client'])} | ${rate(a)} | ${rate(b)} | ` +
        `${ratio(num(a, 'msgsPerSec'), num(b, 'msgsPerSec'))} | ${paired(a, 'msgsPerSec')} | ` +
        `${la.label} ${fmt(la.p50)} / ${fmt(la.p99)} | ${fmt(lb.p50)} / ${fmt(lb.p99)} | ${paired(a, 'latencyP50')} | ` +
        `${serverUsPerMsgAB(a, b)} | ${pairedServerUsPerMsg(a)} | ` +
        `${num(a, 'clientCores').toFixed(2)} / ${num(b, 'clientCores').toFixed(2)} |`,
    );
    const pairedFields = Object.fromEntries(Object.entries(a).filter(([key]) => key.startsWith('paired_')));
    ratioLines.push(
      JSON.stringify({
        suite: a['suite'],
        type: 'ratio',
        workload: a['workload'],
        config: a['config'],
        client: a['client'],
        a: labelA,
        b: labelB,
        msgsPerSec: Number(ratio(num(a, 'msgsPerSec'), num(b, 'msgsPerSec'))),
        latencyP50: Number(ratio(la.p50, lb.p50)),
        latencyP99: Number(ratio(la.p99, lb.p99)),
        serverCpuUsPerMsg: Number(ratio(num(a, 'serverCpuUsPerMsg'), num(b, 'serverCpuUsPerMsg'))),
        ...(hasMainThread(a) && hasMainThread(b)
          ? { serverMainCpuUsPerMsg: Number(ratio(num(a, 'serverMainCpuUsPerMsg'), num(b, 'serverMainCpuUsPerMsg'))) }
          : {}),
        serverPeakRssMb: Number(ratio(num(a, 'serverPeakRssMb'), num(b, 'serverPeakRssMb'))),
        ...pairedFields,
      }),
    );
  }
  if ([...byKey.values()].some(({ a, b }) => a !== undefined && b !== undefined && hasMainThread(a) && hasMainThread(b))) {
    lines.push(
      '',
      "main thread: server µs/msg on the JavaScript thread alone, without V8's compiler and GC threads and libuv's",
      'threadpool, whose share is largely a fixed cost of each fresh process.',
    );
  }
  return ratioLines.join('\n') + '\n' + lines.join('\n') + '\n';
}

export function printComparison(rows: readonly Row[], labelA: string, labelB: string): void {
  process.stdout.write(formatComparison(rows, labelA, labelB));
}
