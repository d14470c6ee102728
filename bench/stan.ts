// W1–W4 of BENCH.md against a standalone tstan over the MEMORY store, driven by the published
// node-nats-streaming client. The server runs in its own process (embedded NATS + STAN server,
// loaded from the compiled dist/) so its CPU seconds and peak RSS are read from /proc. Each
// figure is the median of `runs` runs on a fresh server. `node dist/bench/stan.js [--runs N]
// [--scale F]` runs it alone; `runStanBench(options)` returns one JSON object per workload.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds, peakRssMb } from './proc-stats.js';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

interface StanMsg {
  getData(): string | Buffer;
  getRawData(): Buffer;
}
interface StanSub {
  on(event: string, cb: (msg: StanMsg) => void): void;
  once(event: string, cb: (...args: unknown[]) => void): void;
}
interface StanConn {
  once(event: string, cb: (...args: unknown[]) => void): void;
  on(event: string, cb: (...args: unknown[]) => void): void;
  publish(channel: string, data: Buffer, cb: (err: Error | undefined) => void): void;
  subscribe(channel: string, opts: unknown): StanSub;
  subscriptionOptions(): { setDeliverAllAvailable(): unknown };
  close(): void;
}
const stan = require('node-nats-streaming') as { connect(cid: string, id: string, opts: object): StanConn };

export interface StanBenchOptions {
  /** Runs per workload; the median is reported (BENCH.md: 3). */
  readonly runs?: number;
  /** Multiplies every message count (1 = BENCH.md's counts); smaller for smoke runs. */
  readonly scale?: number;
  /** Print the table beside the reference figures (default true). */
  readonly print?: boolean;
  /** Workloads to run (default all), e.g. ['W3']. */
  readonly only?: readonly string[];
  /** Store configurations to run (default both): MEMORY, and FILE with fsync on (the default). */
  readonly stores?: readonly StoreKind[];
}

export type StoreKind = 'MEMORY' | 'FILE';

const MSG_BYTES = 128;
const CLUSTER_ID = 'test-cluster';
const MAX_INFLIGHT = 16_384;

const REFERENCES = {
  MEMORY: { W1: '60,000 msgs/s', W2: 'p50 0.21 / p99 1.12 ms', W3: '52,200 msgs/s', W4: '13,100 msgs/s' },
  FILE: { W1: '71,800 msgs/s', W2: 'p50 0.62 / p99 1.82 ms', W3: '55,400 msgs/s', W4: '12,200 msgs/s' },
} as const;
const REFERENCE = REFERENCES.MEMORY;

// The server process: embedded NATS on a free port, STAN over MEMORY; prints its port, stops on SIGTERM.
const SERVER_SCRIPT = `
const [serverMod, natsMod, storeMod, limitsMod, loggerMod] = await Promise.all([
  import(process.env.TSTAN_SERVER), import(process.env.TSTAN_NATS),
  import(process.env.TSTAN_DIR ? process.env.TSTAN_FILE_STORE : process.env.TSTAN_STORE),
  import(process.env.TSTAN_LIMITS), import(process.env.TSTAN_LOGGER)]);
const logger = loggerMod.silentLogger();
const nats = new natsMod.EmbeddedNatsServer({ host: '127.0.0.1', port: -1 }, logger);
await nats.start();
const storeOptions = { limits: limitsMod.defaultStoreLimits(), clock: { nowNs: () => BigInt(Date.now()) * 1000000n }, logger };
const openStore = async (settings) => process.env.TSTAN_DIR
  ? storeMod.openFileStore({ ...storeOptions, ...settings, dir: process.env.TSTAN_DIR })
  : await storeMod.openMemoryStore({ ...storeOptions, ...settings });
const server = new serverMod.StanServer(nats.connector(), openStore, { clusterId: '${CLUSTER_ID}' }, logger);
await server.start();
process.stdout.write('PORT ' + nats.port + '\\n');
process.on('SIGTERM', async () => { await server.shutdown(); await nats.shutdown(); process.exit(0); });
`;

function moduleUrl(relative: string): string {
  return new URL(relative, import.meta.url).href;
}

interface ServerProcess {
  readonly port: number;
  readonly child: ChildProcess;
}

async function startServer(dir: string): Promise<ServerProcess> {
  // TSTAN_BENCH_SERVER_ARGS: extra node flags for the server process, e.g. --cpu-prof for profiling.
  const extraArgs = (process.env['TSTAN_BENCH_SERVER_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');
  const child = spawn(process.execPath, [...extraArgs, '--input-type=module', '-e', SERVER_SCRIPT], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      TSTAN_SERVER: moduleUrl('../src/server/server.js'),
      TSTAN_NATS: moduleUrl('../src/transport/nats/server.js'),
      TSTAN_STORE: moduleUrl('../src/store/memory/memory-store.js'),
      TSTAN_FILE_STORE: moduleUrl('../src/store/file/file-store.js'),
      TSTAN_DIR: dir,
      TSTAN_LIMITS: moduleUrl('../src/store/limits.js'),
      TSTAN_LOGGER: moduleUrl('../src/util/logger.js'),
    },
  });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /PORT (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { port, child };
}

async function stopServer(server: ServerProcess): Promise<void> {
  if (server.child.exitCode !== null) return;
  server.child.kill('SIGTERM');
  await once(server.child, 'exit');
}

function connect(port: number, clientId: string): Promise<StanConn> {
  const conn = stan.connect(CLUSTER_ID, clientId, { url: `nats://127.0.0.1:${port}`, maxPubAcksInflight: MAX_INFLIGHT + 1 });
  return new Promise((resolve, reject) => {
    conn.once('connect', () => resolve(conn));
    conn.once('error', (err) => reject(err instanceof Error ? err : new Error(String(err))));
  });
}

function close(conn: StanConn): Promise<void> {
  return new Promise((resolve) => {
    conn.once('close', () => resolve());
    conn.close();
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A 128-byte payload carrying the send time (ms, sub-ms precision) in its first 8 bytes. */
function stampedPayload(): Buffer {
  const payload = Buffer.alloc(MSG_BYTES);
  payload.writeDoubleLE(performance.timeOrigin + performance.now(), 0);
  return payload;
}

/** Publishes `total` messages keeping at most MAX_INFLIGHT unacked; resolves with ack latencies (ms). */
function publishWindowed(conn: StanConn, channel: string, total: number): Promise<number[]> {
  const latencies: number[] = new Array<number>(total);
  let sent = 0;
  let acked = 0;
  return new Promise((resolve, reject) => {
    const sendOne = (): void => {
      const index = sent++;
      const start = performance.now();
      conn.publish(channel, stampedPayload(), (err) => {
        if (err) return reject(err);
        latencies[index] = performance.now() - start;
        acked++;
        if (sent < total) sendOne();
        else if (acked === total) resolve(latencies);
      });
    };
    for (let i = 0; i < Math.min(MAX_INFLIGHT, total); i++) sendOne();
  });
}

function syncPublish(conn: StanConn, channel: string): Promise<void> {
  return new Promise((resolve, reject) => conn.publish(channel, stampedPayload(), (err) => (err ? reject(err) : resolve())));
}

interface Measured {
  readonly values: Record<string, number>;
  readonly messages: number;
}

type Workload = (port: number, scale: number) => Promise<Measured>;

const w1: Workload = async (port, scale) => {
  const total = Math.round(100_000 * scale);
  const conn = await connect(port, 'w1-pub');
  await syncPublish(conn, 'w1');
  const start = performance.now();
  const latencies = await publishWindowed(conn, 'w1', total);
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  await close(conn);
  return { messages: total, values: { msgsPerSec: total / seconds, ackP50Ms: percentile(latencies, 50), ackP99Ms: percentile(latencies, 99) } };
};

const w2: Workload = async (port, scale) => {
  const total = Math.round(5_000 * scale);
  const conn = await connect(port, 'w2-pub');
  await syncPublish(conn, 'w2');
  const latencies: number[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const t = performance.now();
    await syncPublish(conn, 'w2');
    latencies.push(performance.now() - t);
  }
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  await close(conn);
  return {
    messages: total,
    values: {
      msgsPerSec: total / seconds,
      p50Ms: percentile(latencies, 50),
      p90Ms: percentile(latencies, 90),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies[latencies.length - 1] ?? 0,
    },
  };
};

/** `subscribers` subscribers on their own connections, then one windowed publisher. */
async function fanOut(port: number, channel: string, total: number, subscribers: number): Promise<{ seconds: number; e2e: number[] }> {
  const publisher = await connect(port, `${channel}-pub`);
  await syncPublish(publisher, channel);
  const conns: StanConn[] = [];
  const e2e: number[] = [];
  let start = 0;
  const allDone: Array<Promise<number>> = [];
  for (let s = 0; s < subscribers; s++) {
    const conn = await connect(port, `${channel}-sub-${s}`);
    conns.push(conn);
    const sub = conn.subscribe(channel, conn.subscriptionOptions().setDeliverAllAvailable());
    const ready = new Promise<void>((resolve) => sub.once('ready', () => resolve()));
    // The listener goes on before the server answers: the backlog may arrive first.
    allDone.push(new Promise((resolve) => {
      let received = 0;
      sub.on('message', (msg) => {
        received++;
        // The first message is the warm-up publish; the rest carry their send time.
        if (received > 1 && s === 0) e2e.push(performance.timeOrigin + performance.now() - msg.getRawData().readDoubleLE(0));
        if (received === total + 1) resolve(performance.now());
      });
    }));
    await ready;
  }
  start = performance.now();
  await publishWindowed(publisher, channel, total);
  const ends = await Promise.all(allDone);
  const seconds = (Math.max(...ends) - start) / 1000;
  for (const conn of [publisher, ...conns]) await close(conn);
  e2e.sort((a, b) => a - b);
  return { seconds, e2e };
}

const w3: Workload = async (port, scale) => {
  const total = Math.round(100_000 * scale);
  const { seconds, e2e } = await fanOut(port, 'w3', total, 1);
  return { messages: total, values: { msgsPerSec: total / seconds, e2eP50Ms: percentile(e2e, 50), e2eP99Ms: percentile(e2e, 99) } };
};

const w4: Workload = async (port, scale) => {
  const total = Math.round(20_000 * scale);
  const { seconds } = await fanOut(port, 'w4', total, 10);
  return { messages: total, values: { msgsPerSec: total / seconds, deliveredPerSec: (10 * total) / seconds } };
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function runWorkload(
  name: keyof typeof REFERENCE,
  workload: Workload,
  runs: number,
  scale: number,
  storeKind: StoreKind,
): Promise<Record<string, unknown>> {
  const samples: Array<Record<string, number>> = [];
  for (let run = 0; run < runs; run++) {
    // A fresh, empty data directory for every FILE run (BENCH.md).
    const dir = storeKind === 'FILE' ? mkdtempSync(join(tmpdir(), 'tstan-bench-file-')) : '';
    const server = await startServer(dir);
    try {
      const pid = server.child.pid!;
      const cpuBefore = cpuSeconds(pid);
      const clientBefore = process.cpuUsage();
      const measured = await workload(server.port, scale);
      const serverCpu = cpuSeconds(pid) - cpuBefore;
      const client = process.cpuUsage(clientBefore);
      samples.push({
        ...measured.values,
        serverCpuSec: serverCpu,
        serverCpuUsPerMsg: (serverCpu * 1e6) / measured.messages,
        clientCpuSec: (client.user + client.system) / 1e6,
        peakRssMb: peakRssMb(pid),
      });
    } finally {
      await stopServer(server);
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }
  const config = storeKind === 'FILE' ? 'standalone FILE (fsync on)' : 'standalone MEMORY';
  const result: Record<string, unknown> = { workload: name, config, client: 'node-nats-streaming', runs, scale };
  for (const key of Object.keys(samples[0] ?? {})) result[key] = Number(median(samples.map((s) => s[key]!)).toFixed(3));
  result['reference'] = REFERENCES[storeKind][name];
  return result;
}

function summary(r: Record<string, unknown>): string {
  const n = (key: string): string => Number(r[key] ?? 0).toLocaleString('en-US', { maximumFractionDigits: 2 });
  switch (r['workload']) {
    case 'W2':
      return `p50 ${n('p50Ms')} / p99 ${n('p99Ms')} ms (${n('msgsPerSec')} msgs/s)`;
    case 'W4':
      return `${n('msgsPerSec')} msgs/s (${n('deliveredPerSec')} delivered/s)`;
    default:
      return `${n('msgsPerSec')} msgs/s`;
  }
}

export async function runStanBench(options: StanBenchOptions = {}): Promise<object[]> {
  const runs = options.runs ?? 3;
  const scale = options.scale ?? 1;
  const only = options.only;
  const stores = options.stores ?? (['MEMORY', 'FILE'] as const);
  const workloads = ([['W1', w1], ['W2', w2], ['W3', w3], ['W4', w4]] as Array<[keyof typeof REFERENCE, Workload]>).filter(
    ([name]) => only === undefined || only.includes(name),
  );
  const results: Array<Record<string, unknown>> = [];
  for (const storeKind of stores) {
    for (const [name, workload] of workloads) {
      const result = await runWorkload(name, workload, runs, scale, storeKind);
      results.push(result);
      if (options.print !== false) process.stdout.write(JSON.stringify(result) + '\n');
    }
  }
  if (options.print !== false) {
    const lines = ['', '| workload | configuration | tstan | reference | server CPU µs/msg | peak RSS MB |', '|---|---|---:|---:|---:|---:|'];
    for (const r of results) {
      lines.push(
        `| ${String(r['workload'])} | ${String(r['config'])} | ${summary(r)} | ${String(r['reference'])} | ${String(r['serverCpuUsPerMsg'])} | ${Number(r['peakRssMb']).toFixed(0)} |`,
      );
    }
    lines.push('', 'Reference: 4–7 µs server CPU per message, 80–140 MB RSS. node-nats-streaming saturates near 60–70k msgs/s in W1.');
    process.stdout.write(lines.join('\n') + '\n');
  }
  return results;
}

function argValue(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const runs = Number(argValue('--runs') ?? 3);
  const scale = Number(argValue('--scale') ?? 1);
  const only = argValue('--only')?.split(',');
  const stores = argValue('--stores')?.split(',') as StoreKind[] | undefined;
  runStanBench({ runs, scale, ...(only === undefined ? {} : { only }), ...(stores === undefined ? {} : { stores }) }).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
