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

const distRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));
const tstanCli = join(distRoot, 'src/cli/main.js');

interface RunningServer {
  readonly port: number;
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
        const ports = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nats: string[] };
        rmSync(dir, { recursive: true, force: true });
        return { port: Number(new URL(ports.nats[0]!).port), child };
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
}

async function measure(name: string, port: number, total: number): Promise<NatsThroughput> {
  const subscriber = await connect({ port });
  const publisher = await connect({ port });
  const payload = new Uint8Array(128);
  let received = 0;
  const done = new Promise<void>((resolveDone) => {
    subscriber.subscribe('bench.nats', {
      callback: () => {
        if (++received === total) resolveDone();
      },
    });
  });
  await subscriber.flush();
  const started = process.hrtime.bigint();
  for (let i = 0; i < total; i++) {
    publisher.publish('bench.nats', payload);
    // Let the client write and the subscriber read now and then, as a real producer would.
    if ((i & 0x3fff) === 0x3fff) await publisher.flush();
  }
  await publisher.flush();
  await done;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await publisher.close();
  await subscriber.close();
  return { server: name, msgs: total, msgsPerSecond: Math.round(total / seconds), mbPerSecond: Math.round((total * 128) / seconds / 1e4) / 100 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function medianOf(runs: number, name: string, port: number, total: number): Promise<NatsThroughput> {
  const results: NatsThroughput[] = [];
  for (let i = 0; i < runs; i++) results.push(await measure(name, port, total));
  const best = median(results.map((r) => r.msgsPerSecond));
  return results.find((r) => r.msgsPerSecond === best)!;
}

export async function runNatsBench(total = 500_000, runs = 3): Promise<object[]> {
  const rows: object[] = [];
  const tstan = await startWithPortsFile(process.execPath, [tstanCli]);
  let tstanResult: NatsThroughput;
  try {
    tstanResult = await medianOf(runs, 'tstan', tstan.port, total);
  } finally {
    await stop(tstan);
  }
  rows.push({ workload: 'nats-pubsub', ...tstanResult });
  const hasNatsServer = spawnSync('nats-server', ['--version']).status === 0;
  if (hasNatsServer) {
    const reference = await startWithPortsFile('nats-server', []);
    try {
      const natsResult = await medianOf(runs, 'nats-server', reference.port, total);
      rows.push({ workload: 'nats-pubsub', ...natsResult });
      rows.push({ workload: 'nats-pubsub', server: 'ratio tstan/nats-server', ratio: Math.round((tstanResult.msgsPerSecond / natsResult.msgsPerSecond) * 100) / 100 });
    } finally {
      await stop(reference);
    }
  } else {
    rows.push({ workload: 'nats-pubsub', server: 'nats-server', note: 'not installed: apt-get install nats-server' });
  }
  return rows;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runNatsBench().then((rows) => {
    for (const row of rows) console.log(JSON.stringify(row));
  });
}
