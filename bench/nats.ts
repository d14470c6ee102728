// NATS core throughput: one publisher and one subscriber (nats.js, 128-byte messages) through a
// tstan node and, when installed, through Debian's nats-server in the same run; prints both and
// the ratio. Each server runs as its own process, as a user would run it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'nats';
import { cpuSeconds, peakRssMb } from './proc-stats.js';

const distRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));
// The bundled command, as `npm start` and the `tstan` bin run it.
const tstanCli = join(distRoot, 'bin/tstan.js');

interface RunningServer {
  readonly port: number;
  readonly clusterPort: number;
  readonly child: ChildProcess;
}

async function startWithPortsFile(command: string, args: string[]): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tstan-bench-'));
  const child = spawn(command, [...args, '-a', '127.0.0.1', '-p', '-1', '--ports_file_dir', dir], { stdio: 'ignore' });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const file = readdirSync(dir).find((name) => name.endsWith('.ports'));
    if (file) {
      try {
        const ports = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nats: string[]; cluster?: string[] };
        rmSync(dir, { recursive: true, force: true });
        const clusterUrl = ports.cluster?.[0];
        return { port: Number(new URL(ports.nats[0]!).port), clusterPort: clusterUrl ? Number(new URL(clusterUrl).port) : 0, child };
      } catch {
        // not fully written yet
      }
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${command} did not start`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stop(server: RunningServer): Promise<void> {
  if (server.child.exitCode !== null) return;
  server.child.kill('SIGTERM');
  await once(server.child, 'exit');
}

export interface NatsThroughput {
  readonly server: string;
  readonly msgs: number;
  readonly msgsPerSecond: number;
  readonly mbPerSecond: number;
  /** Server CPU (user + system) per message, summed over the server processes involved. */
  readonly serverCpuUsPerMsg: number;
  readonly peakRssMb: number;
}

async function measure(name: string, pids: readonly number[], port: number, total: number, subscriberPort = port): Promise<NatsThroughput> {
  const subscriber = await connect({ port: subscriberPort });
  const publisher = await connect({ port });
  const payload = new Uint8Array(128);
  let received = 0;
  const done = new Promise<void>((resolveDone) => {
    subscriber.subscribe('bench.nats.ready', { callback: (_e, msg) => msg.respond(new Uint8Array(0)) });
    subscriber.subscribe('bench.nats', {
      callback: () => {
        if (++received === total) resolveDone();
      },
    });
  });
  await subscriber.flush();
  if (subscriberPort !== port) await waitForRoutedInterest(publisher);
  const cpuBefore = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const started = process.hrtime.bigint();
  for (let i = 0; i < total; i++) {
    publisher.publish('bench.nats', payload);
    // Let the client write and the subscriber read now and then, as a real producer would.
    if ((i & 0x3fff) === 0x3fff) await publisher.flush();
  }
  await publisher.flush();
  await done;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0) - cpuBefore;
  await publisher.close();
  await subscriber.close();
  return {
    server: name,
    msgs: total,
    msgsPerSecond: Math.round(total / seconds),
    mbPerSecond: Math.round((total * 128) / seconds / 1e4) / 100,
    serverCpuUsPerMsg: Math.round((cpu / total) * 1e6 * 100) / 100,
    peakRssMb: Math.round(pids.reduce((max, pid) => Math.max(max, peakRssMb(pid)), 0)),
  };
}

/** Across a route, interest arrives asynchronously: wait until a probe request finds a responder. */
async function waitForRoutedInterest(publisher: Awaited<ReturnType<typeof connect>>): Promise<void> {
  const deadline = Date.now() + 10_000;
  const probe = 'bench.nats.ready';
  for (;;) {
    try {
      await publisher.request(probe, new Uint8Array(0), { timeout: 500 });
      return;
    } catch {
      if (Date.now() > deadline) throw new Error('route interest never arrived');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function medianOf(runs: number, name: string, servers: readonly RunningServer[], total: number): Promise<NatsThroughput> {
  const pids = servers.map((server) => server.child.pid ?? 0);
  const port = servers[0]!.port;
  const subscriberPort = servers[servers.length - 1]!.port;
  const results: NatsThroughput[] = [];
  for (let i = 0; i < runs; i++) results.push(await measure(name, pids, port, total, subscriberPort));
  const best = median(results.map((r) => r.msgsPerSecond));
  return results.find((r) => r.msgsPerSecond === best)!;
}

/** Runs one workload on tstan and on nats-server and adds the ratio. */
async function compare(
  workload: string,
  measureTstan: () => Promise<NatsThroughput>,
  measureNats: (() => Promise<NatsThroughput>) | null,
): Promise<object[]> {
  const tstan = await measureTstan();
  const rows: object[] = [{ workload, ...tstan }];
  if (!measureNats) {
    rows.push({ workload, server: 'nats-server', note: 'not installed: apt-get install nats-server' });
    return rows;
  }
  const reference = await measureNats();
  rows.push({ workload, ...reference });
  rows.push({ workload, server: 'ratio tstan/nats-server', ratio: Math.round((tstan.msgsPerSecond / reference.msgsPerSecond) * 100) / 100 });
  return rows;
}

async function withServers<T>(starts: (() => Promise<RunningServer>)[], body: (servers: RunningServer[]) => Promise<T>): Promise<T> {
  const servers: RunningServer[] = [];
  try {
    for (const start of starts) servers.push(await start());
    return await body(servers);
  } finally {
    for (const server of servers) await stop(server);
  }
}

export async function runNatsBench(total = 500_000, runs = 3): Promise<object[]> {
  const hasNatsServer = spawnSync('nats-server', ['--version']).status === 0;
  const tstanNode = (extra: string[] = []) => () => startWithPortsFile(process.execPath, [tstanCli, ...extra]);
  const natsNode = (extra: string[] = []) => () => startWithPortsFile('nats-server', extra);
  const single = await compare(
    'nats-pubsub',
    () => withServers([tstanNode()], (servers) => medianOf(runs, 'tstan', servers, total)),
    hasNatsServer ? () => withServers([natsNode()], (servers) => medianOf(runs, 'nats-server', servers, total)) : null,
  );
  const cluster = ['--cluster', 'nats://127.0.0.1:-1', '--cluster_name', 'bench'];
  // Two tstan nodes on one NATS cluster each run a streaming server: with the same cluster ID the
  // second refuses to start (as the reference does), so each gets its own.
  const streamingIds = (command: string, id: string): string[] => (command === 'tstan' ? ['-cid', id] : []);
  const crossNode = (command: string, node: (extra: string[]) => () => Promise<RunningServer>) => async () => {
    const first = await node([...cluster, ...streamingIds(command, 'bench-first')])();
    try {
      return await withServers([node([...cluster, ...streamingIds(command, 'bench-second'), '--routes', `nats-route://127.0.0.1:${first.clusterPort}`])], ([second]) =>
        medianOf(runs, command, [first, second!], total),
      );
    } finally {
      await stop(first);
    }
  };
  const routed = await compare('nats-cross-node', crossNode('tstan', tstanNode), hasNatsServer ? crossNode('nats-server', natsNode) : null);
  return [...single, ...routed];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runNatsBench().then((rows) => {
    for (const row of rows) console.log(JSON.stringify(row));
  });
}
