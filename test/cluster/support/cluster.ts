// A cluster of real tstan processes for the clustering tests: N nodes on free loopback ports,
// meshed by routes (or all on an external NATS deployment with `-ns`), each with its own FILE data
// directory, started with `--clustered`. Nodes can be
// killed, paused, restarted (same ports, same directory), wiped, stopped gracefully; the cluster's
// leader and each node's Raft state are read from `/streaming/clusterz`. Everything started here
// is stopped by stop().
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../support/ports.js';
import { TstanNode } from '../../jepsen-like/tstan-node.js';

export interface ClusterNodeView {
  readonly node_id: string;
  readonly role: string;
  readonly term: number;
  readonly leader: string;
  readonly commit: number;
  readonly applied: number;
  readonly first_index: number;
  readonly last_index: number;
  readonly snapshots_restored: number;
  readonly messages_fetched: number;
  readonly catching_up: boolean;
  readonly counters: { electionsStarted: number; preElectionsStarted: number; snapshotsInstalled: number };
  readonly voters: string[];
  readonly non_voters: string[];
  readonly serving: boolean;
  readonly ready: boolean;
  readonly waiting: string;
  readonly peers?: Array<{ id: string; match: number; lag: number }>;
}

export interface ClusterOptions {
  readonly size: number;
  /** IDs of the nodes; default a, b, c, ... */
  readonly ids?: readonly string[];
  readonly clusterId?: string;
  /** Extra flags for every node. */
  readonly args?: readonly string[];
  /** Run every node on this external NATS deployment (`-ns`) instead of meshing them by routes. */
  readonly natsServer?: ExternalNats;
}

/** An external NATS deployment as the nodes reach it: its URLs and the nodes' own user, if any. */
export interface ExternalNats {
  readonly urls: readonly string[];
  readonly user?: string;
  readonly password?: string;
}

export class TestCluster {
  readonly nodes = new Map<string, TstanNode>();
  readonly clusterId: string;
  private readonly root: string;
  private readonly routePorts = new Map<string, number>();

  private constructor(
    clusterId: string,
    private readonly natsServer: ExternalNats | undefined,
  ) {
    this.clusterId = clusterId;
    this.root = mkdtempSync(join(tmpdir(), 'tstan-cluster-'));
  }

  static async create(options: ClusterOptions): Promise<TestCluster> {
    const cluster = new TestCluster(options.clusterId ?? 'test-cluster', options.natsServer);
    const ids = options.ids ?? 'abcdefghij'.slice(0, options.size).split('');
    // Every node routes to every other: ports first, then the nodes.
    for (const id of ids) cluster.routePorts.set(id, await freePort());
    for (const id of ids) await cluster.addNodeSpec(id, ids, options.args ?? []);
    return cluster;
  }

  /** Defines a node (not started): its ports, directory and flags. `founders` are the --cluster_peers. */
  async addNodeSpec(id: string, founders: readonly string[], args: readonly string[], extra: readonly string[] = []): Promise<TstanNode> {
    const routePort = this.routePorts.get(id) ?? (await freePort());
    this.routePorts.set(id, routePort);
    const routes = [...this.routePorts.entries()].filter(([other]) => other !== id).map(([, port]) => `nats-route://127.0.0.1:${port}`);
    const peers = founders.length > 0 ? ['--cluster_peers', founders.join(',')] : [];
    const node = new TstanNode({
      name: id,
      clusterId: this.clusterId,
      dataDir: join(this.root, id, 'data'),
      runDir: this.root,
      port: await freePort(),
      httpPort: await freePort(),
      extraArgs: [
        '--clustered', '--cluster_node_id', id, ...peers,
        ...this.meshArgs(routePort, routes),
        ...args, ...extra,
      ],
    });
    this.nodes.set(id, node);
    return node;
  }

  /** How a node reaches the others: routes of its embedded server, or the external deployment. */
  private meshArgs(routePort: number, routes: readonly string[]): string[] {
    const ns = this.natsServer;
    if (ns !== undefined) return ['-ns', ns.urls.join(','), ...(ns.user !== undefined ? ['--user', ns.user, '--pass', ns.password ?? ''] : [])];
    return ['--cluster', `nats://127.0.0.1:${routePort}`, ...(routes.length > 0 ? ['--routes', routes.join(',')] : [])];
  }

  node(id: string): TstanNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  /** Client URLs of every node (a client given all of them fails over by itself). */
  get urls(): string[] {
    return [...this.nodes.values()].map((node) => node.url);
  }

  async startAll(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((node) => node.start(60_000)));
  }

  async view(id: string): Promise<ClusterNodeView | undefined> {
    const node = this.node(id);
    if (!node.running) return undefined;
    try {
      const response = await fetch(`${node.monitorUrl}/streaming/clusterz`, { signal: AbortSignal.timeout(2_000) });
      if (!response.ok) return undefined;
      return (await response.json()) as ClusterNodeView;
    } catch {
      return undefined;
    }
  }

  /**
   * Resolves with the ID of the node that leads and serves, once the reachable nodes agree on it
   * and it is not in `not` (polls: leadership has no event to wait on from outside).
   */
  async leader(timeoutMs = 30_000, not: readonly string[] = []): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const views = (await Promise.all([...this.nodes.keys()].map((id) => this.view(id)))).filter((v): v is ClusterNodeView => v !== undefined);
      const leaders = views.filter((v) => v.role === 'Leader' && v.serving);
      if (leaders.length === 1 && !not.includes(leaders[0]!.node_id)) {
        const id = leaders[0]!.node_id;
        if (views.every((v) => v.leader === id || v.node_id === id)) return id;
      }
      if (Date.now() > deadline) throw new Error(`no agreed leader within ${timeoutMs} ms: ${JSON.stringify(views.map((v) => [v.node_id, v.role, v.term, v.leader]))}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Resolves with the node's view once `predicate` holds for it (polls). */
  async until(id: string, predicate: (view: ClusterNodeView) => boolean, timeoutMs = 30_000): Promise<ClusterNodeView> {
    const deadline = Date.now() + timeoutMs;
    let last: ClusterNodeView | undefined;
    for (;;) {
      last = await this.view(id);
      if (last !== undefined && predicate(last)) return last;
      if (Date.now() > deadline) throw new Error(`${id} did not get there within ${timeoutMs} ms: ${JSON.stringify(last)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The last sequence of a channel as a node reports it (0 if it does not exist there). */
  async lastSeq(id: string, channel: string): Promise<number> {
    return this.node(id).lastSeq(channel);
  }

  /** Has the node take a snapshot now (its log is then compacted behind it). */
  async snapshot(id: string): Promise<number> {
    const response = await fetch(`${this.node(id).monitorUrl}/streaming/clusterz/snapshot`, { signal: AbortSignal.timeout(30_000) });
    if (!response.ok) throw new Error(`snapshot on ${id}: HTTP ${response.status} ${await response.text()}`);
    return ((await response.json()) as { index: number }).index;
  }

  /** Resolves once every running node has applied at least `index`. */
  async appliedEverywhere(index: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const views = await Promise.all([...this.nodes.entries()].filter(([, n]) => n.running).map(([id]) => this.view(id)));
      if (views.every((v) => v !== undefined && v.applied >= index)) return;
      if (Date.now() > deadline) throw new Error(`not every node applied ${index} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Once every running node has applied the same index, each node's digest of its replicated state
   * (records and message content); retried until the indexes agree.
   */
  async digestsAfterConvergence(timeoutMs = 30_000): Promise<Map<string, string>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const running = [...this.nodes.entries()].filter(([, n]) => n.running);
      const answers = await Promise.all(
        running.map(async ([id, node]) => {
          try {
            const response = await fetch(`${node.monitorUrl}/streaming/clusterz?digest=1`, { signal: AbortSignal.timeout(10_000) });
            const body = (await response.json()) as { applied: number; digest?: string };
            return [id, body.applied, body.digest ?? ''] as const;
          } catch {
            return [id, -1, ''] as const;
          }
        }),
      );
      const applied = new Set(answers.map(([, index]) => index));
      if (applied.size === 1 && !applied.has(-1)) return new Map(answers.map(([id, , digest]) => [id, digest]));
      if (Date.now() > deadline) throw new Error(`nodes did not converge: ${JSON.stringify(answers)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Where node logs and ports files go. */
  get runDir(): string {
    return this.root;
  }

  dataDir(id: string): string {
    return join(this.root, id, 'data');
  }

  /** Removes a stopped node's Raft log only (its default place under the data directory); returns its path. */
  removeRaftLog(id: string): string {
    const path = join(this.dataDir(id), '.raft');
    rmSync(path, { recursive: true, force: true });
    return path;
  }

  /** Removes a stopped node's data directory (its Raft log included): a wiped disk. */
  wipe(id: string): void {
    rmSync(join(this.root, id, 'data'), { recursive: true, force: true });
  }

  errorLines(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const [id, node] of this.nodes) out.set(id, node.errorLines());
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((node) => node.stop().catch(() => undefined)));
    rmSync(this.root, { recursive: true, force: true });
  }
}
