// Starts a 3-node tstan cluster for one benchmark run through the `tstan` command of a checkout's
// compiled dist/, as an operator would: FILE store in fresh data directories, `--clustered` with
// the peers listed, meshed by routes on loopback. Route ports are chosen free before the nodes
// start (each node names the others'); client and monitoring ports are taken by the nodes
// themselves (-p -1 -m -1) and read from their ports files. Who leads comes from
// `/streaming/clusterz`. Every node logs to a file; lines at error level are kept for the report.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds, mainThreadCpuSeconds, peakRssMb } from './proc-stats.js';
import type { ServerBuild } from './tstan-server.js';

export interface ClusterSpec {
  readonly size: number;
  /** `--cluster_sync` (fsync on a majority before the ack); false passes `--cluster_sync=false`. */
  readonly sync: boolean;
  /** Extra flags for every node. */
  readonly args?: readonly string[];
}

/** What `/streaming/clusterz` says of a node (the fields the benchmarks read). */
export interface ClusterzView {
  readonly node_id: string;
  readonly role: string;
  readonly term: number;
  readonly leader: string;
  readonly serving: boolean;
  readonly commit: number;
  readonly applied: number;
}

export interface ClusterNode {
  readonly id: string;
  readonly pid: number;
  readonly url: string;
  readonly monitorUrl: string;
  readonly running: boolean;
  cpuSeconds(): number;
  /** The CPU of the node's JavaScript (main) thread alone. */
  mainThreadCpuSeconds(): number;
  peakRssMb(): number;
  signal(signal: NodeJS.Signals): void;
  /** Resolves once the process has exited (SIGKILL after `timeoutMs`). */
  waitExit(timeoutMs?: number): Promise<void>;
  /** The node's view, or undefined when it does not answer within 1 s. */
  view(): Promise<ClusterzView | undefined>;
}

export interface RunningCluster {
  readonly nodes: readonly ClusterNode[];
  node(id: string): ClusterNode;
  /**
   * The ID of the node that leads and serves once every running node names it, and it is not in
   * `not` (polled every `pollMs`: leadership has no event to wait on from outside).
   */
  leader(timeoutMs?: number, not?: readonly string[], pollMs?: number): Promise<string>;
  /** Lines the nodes logged at error level or above, by node. */
  errorLines(): Map<string, string[]>;
  /** Copies every node's log into a new directory that stop() leaves alone; returns its path. */
  keepLogs(): string;
  /** SIGTERM every node (SIGKILL after 10 s), removes every directory. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const POLL_MS = 20;
const NODE_IDS = 'abcdefghij';
/** pino's level of `error`; fatal is 60. */
const ERROR_LEVEL = 50;

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A port the kernel had free a moment ago (bind 0, read, release). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

function readPorts(dir: string): { port: number; httpPort: number } | undefined {
  if (!existsSync(dir)) return undefined;
  const file = readdirSync(dir).find((name) => name.endsWith('.ports'));
  if (file === undefined) return undefined;
  try {
    const ports = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nats?: string[]; monitoring?: string[] };
    const portOf = (url: string | undefined): number => (url === undefined ? 0 : Number(new URL(url).port));
    return { port: portOf(ports.nats?.[0]), httpPort: portOf(ports.monitoring?.[0]) };
  } catch {
    return undefined; // written but not complete yet
  }
}

function errorLinesOf(logFile: string): string[] {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((line) => Number(/"level":(\d+)/.exec(line)?.[1] ?? 0) >= ERROR_LEVEL);
}

class BenchClusterNode implements ClusterNode {
  port = 0;
  httpPort = 0;

  constructor(
    readonly id: string,
    readonly child: ChildProcess,
    readonly portsDir: string,
    readonly logFile: string,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get monitorUrl(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  cpuSeconds(): number {
    return cpuSeconds(this.pid);
  }

  mainThreadCpuSeconds(): number {
    return mainThreadCpuSeconds(this.pid);
  }

  peakRssMb(): number {
    return peakRssMb(this.pid);
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  async waitExit(timeoutMs = STOP_TIMEOUT_MS): Promise<void> {
    if (!this.running) return;
    const exited = once(this.child, 'exit');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  async view(): Promise<ClusterzView | undefined> {
    if (!this.running || this.httpPort === 0) return undefined;
    try {
      const response = await fetch(`${this.monitorUrl}/streaming/clusterz`, { signal: AbortSignal.timeout(1_000) });
      return response.ok ? ((await response.json()) as ClusterzView) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Resolves once the node wrote its ports file (it then accepts clients and serves monitoring). */
  async started(deadline: number): Promise<void> {
    for (;;) {
      const ports = readPorts(this.portsDir);
      if (ports !== undefined && ports.port > 0 && ports.httpPort > 0) {
        this.port = ports.port;
        this.httpPort = ports.httpPort;
        return;
      }
      if (!this.running) throw new Error(`node ${this.id} exited during start-up: ${readFileSync(this.logFile, 'utf8').slice(-2_000)}`);
      if (Date.now() > deadline) throw new Error(`node ${this.id} wrote no ports file within ${START_TIMEOUT_MS} ms; see ${this.logFile}`);
      await delay(POLL_MS);
    }
  }
}

function spawnNode(build: ServerBuild, root: string, id: string, ids: readonly string[], routePorts: Map<string, number>, spec: ClusterSpec): BenchClusterNode {
  const portsDir = join(root, `${id}.ports.d`);
  const dataDir = join(root, id);
  mkdirSync(portsDir, { recursive: true });
  const routes = ids.filter((other) => other !== id).map((other) => `nats://127.0.0.1:${routePorts.get(other)}`);
  // TSTAN_BENCH_SERVER_ARGS: extra node flags for the server processes, e.g. --cpu-prof.
  const nodeArgs = (process.env['TSTAN_BENCH_SERVER_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');
  const args = [
    ...nodeArgs, join(build.root, 'dist', 'src', 'cli', 'main.js'),
    '-a', '127.0.0.1', '-p', '-1', '-m', '-1', '--ports_file_dir', portsDir, '-st', 'FILE', '--dir', dataDir,
    '--clustered', '--cluster_node_id', id, '--cluster_peers', ids.join(','),
    '--cluster', `nats://127.0.0.1:${routePorts.get(id)}`, '--routes', routes.join(','),
    ...(spec.sync ? [] : ['--cluster_sync=false']), ...(spec.args ?? []),
  ];
  const logFile = join(root, `${id}.log`);
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, args, { cwd: build.root, stdio: ['ignore', log, log] });
  closeSync(log);
  return new BenchClusterNode(id, child, portsDir, logFile);
}

/** Starts `spec.size` nodes of `build` and resolves once one of them leads and serves. */
export async function startCluster(build: ServerBuild, spec: ClusterSpec): Promise<RunningCluster> {
  const root = mkdtempSync(join(tmpdir(), 'tstan-bench-cluster-'));
  const ids = NODE_IDS.slice(0, spec.size).split('');
  const routePorts = new Map<string, number>();
  for (const id of ids) routePorts.set(id, await freePort());
  const nodes = ids.map((id) => spawnNode(build, root, id, ids, routePorts, spec));
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const cluster: RunningCluster = {
    nodes,
    node(id) {
      const node = byId.get(id);
      if (node === undefined) throw new Error(`no node ${id}`);
      return node;
    },
    async leader(timeoutMs = START_TIMEOUT_MS, not = [], pollMs = POLL_MS) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const views = (await Promise.all(nodes.map((node) => node.view()))).filter((view) => view !== undefined);
        const leaders = views.filter((view) => view.role === 'Leader' && view.serving && !not.includes(view.node_id));
        const id = leaders.length === 1 ? leaders[0]!.node_id : undefined;
        if (id !== undefined && views.every((view) => view.leader === id || view.node_id === id)) return id;
        if (Date.now() > deadline) throw new Error(`no agreed leader within ${timeoutMs} ms: ${JSON.stringify(views.map((v) => [v.node_id, v.role, v.term, v.leader]))}`);
        await delay(pollMs);
      }
    },
    errorLines: () => new Map(nodes.map((node) => [node.id, errorLinesOf(node.logFile)])),
    keepLogs() {
      const kept = mkdtempSync(join(tmpdir(), 'tstan-bench-logs-'));
      for (const node of nodes) if (existsSync(node.logFile)) copyFileSync(node.logFile, join(kept, `${node.id}.log`));
      return kept;
    },
    async stop() {
      await Promise.all(
        nodes.map(async (node) => {
          if (!node.running) return;
          node.signal('SIGCONT'); // a paused node would never see the SIGTERM
          node.signal('SIGTERM');
          await node.waitExit();
        }),
      );
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    await Promise.all(nodes.map((node) => node.started(deadline)));
    await cluster.leader(Math.max(1_000, deadline - Date.now()));
    return cluster;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}
