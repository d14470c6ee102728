// Start-up time of the tstan command, seen from outside as a client or an orchestrator sees it:
// spawn → the client port accepts a TCP connection → the first STAN ConnectRequest is answered.
// Each figure is the median of `runs` spawns (default 20) of a fresh process on a free port, idle
// MEMORY store. Rows: the bundled command (`dist/bin/tstan.js`, what `npm start` and the `tstan`
// bin run) and the same code loaded module by module (`dist/src/cli/main.js`), so the bundle's
// share is visible. `--load N` adds a row with N busy processes competing for the CPU; `--entry
// PATH` (repeatable) adds a row for another build's entry, e.g. an older checkout's
// dist/src/cli/main.js, measured in turn with the others. `node dist/bench/startup.js [--runs N]
// [--load N] [--entry PATH]` runs it alone.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect as connectTcp } from 'node:net';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect as connectNats, type NatsConnection } from 'nats';
import { freePort } from '../test/support/ports.js';

const CLUSTER_ID = 'test-cluster';
/** The target for the client port, idle (docs/benchmarks.md §6); nats-streaming-server takes about 30 ms. */
export const ACCEPT_TARGET_MS = 100;

export interface StartupBenchOptions {
  readonly runs?: number;
  /** Busy processes competing for the CPU during an extra row (0: no such row). */
  readonly load?: number;
  /** More entries to measure beside ours (another build's main.js or bundle). */
  readonly entries?: readonly string[];
  readonly print?: boolean;
}

export interface StartupRow {
  readonly entry: string;
  readonly load: number;
  readonly runs: number;
  readonly accept_ms_median: number;
  readonly accept_ms_p90: number;
  readonly accept_ms_min: number;
  readonly accept_ms_max: number;
  readonly stan_connect_ms_median: number;
  readonly stan_connect_ms_p90: number;
  readonly target_accept_ms: number;
}

interface Sample {
  readonly acceptMs: number;
  readonly stanMs: number;
}

const entries = {
  bundle: fileURLToPath(new URL('../bin/tstan.js', import.meta.url)),
  modules: fileURLToPath(new URL('../src/cli/main.js', import.meta.url)),
} as const;

/** ConnectRequest{clientID=1, heartbeatInbox=2, protocol=3: 1}, written by hand: no codec to load. */
function connectRequest(clientId: string, heartbeatInbox: string): Uint8Array {
  const id = Buffer.from(clientId);
  const inbox = Buffer.from(heartbeatInbox);
  return Buffer.concat([
    Buffer.from([0x0a, id.length]), id,
    Buffer.from([0x12, inbox.length]), inbox,
    Buffer.from([0x18, 0x01]),
  ]);
}

function tryConnect(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connectTcp(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

const pause = (ms: number): Promise<void> => new Promise((wake) => setTimeout(wake, ms));

/** Polls the port every millisecond until it accepts; fails if the process exits first. */
async function waitForAccept(port: number, child: ChildProcess): Promise<void> {
  while (!(await tryConnect(port))) {
    if (child.exitCode !== null) throw new Error(`tstan exited with ${child.exitCode} before listening`);
    await pause(1);
  }
}

/** Sends ConnectRequests until one is answered (no responders or a timeout: not ready yet). */
async function waitForStan(nc: NatsConnection, child: ChildProcess): Promise<void> {
  const request = connectRequest(`startup-bench`, '_INBOX.startup-bench.hb');
  for (;;) {
    if (child.exitCode !== null) throw new Error(`tstan exited with ${child.exitCode} before answering`);
    try {
      const reply = await nc.request(`_STAN.discover.${CLUSTER_ID}`, request, { timeout: 1_000 });
      // A ConnectResponse that opens with pubPrefix (field 1); an error would open with field 5.
      if (reply.data[0] !== 0x0a) throw new Error(`the first ConnectRequest was refused: ${Buffer.from(reply.data).toString('latin1')}`);
      return;
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('the first ConnectRequest')) throw error;
      await pause(1);
    }
  }
}

async function measureOnce(entry: string): Promise<Sample> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [entry, '-a', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let nc: NatsConnection | undefined;
  try {
    await waitForAccept(port, child);
    const acceptMs = performance.now() - started;
    nc = await connectNats({ servers: `127.0.0.1:${port}`, reconnect: false });
    await waitForStan(nc, child);
    return { acceptMs, stanMs: performance.now() - started };
  } finally {
    await nc?.close();
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const round = (ms: number): number => Math.round(ms * 10) / 10;

/**
 * Measures the entries in turn (A B A B ...), so a change in the machine's load during the run
 * moves every row alike; one unmeasured round first warms the page cache.
 */
async function measureEntries(named: readonly (readonly [string, string])[], runs: number, load: number): Promise<StartupRow[]> {
  for (const [, path] of named) await measureOnce(path);
  const samples = named.map((): Sample[] => []);
  for (let i = 0; i < runs; i++) {
    for (const [index, [, path]] of named.entries()) samples[index]!.push(await measureOnce(path));
  }
  return named.map(([name], index) => rowOf(name, samples[index]!, runs, load));
}

function rowOf(name: string, samples: readonly Sample[], runs: number, load: number): StartupRow {
  const accept = samples.map((s) => s.acceptMs).sort((a, b) => a - b);
  const stan = samples.map((s) => s.stanMs).sort((a, b) => a - b);
  return {
    entry: name,
    load,
    runs,
    accept_ms_median: round(percentile(accept, 50)),
    accept_ms_p90: round(percentile(accept, 90)),
    accept_ms_min: round(accept[0] ?? 0),
    accept_ms_max: round(accept[accept.length - 1] ?? 0),
    stan_connect_ms_median: round(percentile(stan, 50)),
    stan_connect_ms_p90: round(percentile(stan, 90)),
    target_accept_ms: ACCEPT_TARGET_MS,
  };
}

/** Busy loops in their own processes, stopped by the caller. */
function startLoad(count: number): ChildProcess[] {
  return Array.from({ length: count }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

async function stopLoad(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(children.map(async (child) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  }));
}

export async function runStartupBench(options: StartupBenchOptions = {}): Promise<StartupRow[]> {
  const runs = options.runs ?? 20;
  const named: (readonly [string, string])[] = [['bundle', entries.bundle], ['modules', entries.modules]];
  for (const path of options.entries ?? []) named.push([path, path]);
  const rows = await measureEntries(named, runs, 0);
  if ((options.load ?? 0) > 0) {
    const load = startLoad(options.load ?? 0);
    try {
      rows.push(...(await measureEntries([['bundle', entries.bundle]], runs, options.load ?? 0)));
    } finally {
      await stopLoad(load);
    }
  }
  if (options.print !== false) {
    process.stderr.write(`start-up, median of ${runs} (client port accepts / first STAN connect answered; target ${ACCEPT_TARGET_MS} ms idle):\n`);
    for (const row of rows) {
      const load = row.load > 0 ? `, ${row.load} busy processes` : '';
      process.stderr.write(`  ${row.entry}${load}: ${row.accept_ms_median} ms / ${row.stan_connect_ms_median} ms (accept p90 ${row.accept_ms_p90} ms)\n`);
    }
  }
  return rows;
}

function argNumber(argv: readonly string[], name: string): number | undefined {
  const index = argv.indexOf(`--${name}`);
  if (index < 0) return undefined;
  const value = Number(argv[index + 1]);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} takes a whole number, got ${argv[index + 1]}`);
  return value;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const runs = argNumber(argv, 'runs');
  const load = argNumber(argv, 'load');
  const extra = argv.flatMap((arg, index) => (arg === '--entry' && argv[index + 1] !== undefined ? [resolve(argv[index + 1]!)] : []));
  runStartupBench({ ...(runs === undefined ? {} : { runs }), ...(load === undefined ? {} : { load }), entries: extra })
    .then((rows) => {
      for (const row of rows) console.log(JSON.stringify({ suite: 'startup', ...row }));
    })
    .catch((error: unknown) => {
      process.stderr.write(`startup bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    });
}
