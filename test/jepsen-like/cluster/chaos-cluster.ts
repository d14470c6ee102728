// A cluster of real tstan processes for the chaos harness: N nodes on free loopback ports, each
// with its own FILE data directory and log, meshed only through the link proxies of
// net/network.ts (routes name the proxies, route gossip leads to a sink), each writing the test
// hooks' Raft trace and fsync log next to its log. Nodes can be killed, paused and restarted on
// the same ports and directory; their Raft view comes from `/streaming/clusterz`. close() stops
// every process and proxy it started, whatever state they are in.
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { freePort } from '../../support/ports.js';
import { TstanNode } from '../tstan-node.js';
import { ChaosNetwork } from '../net/network.js';
import { SmallDisks } from './small-disk.js';

export interface ClusterView {
  readonly node_id: string;
  readonly role: string;
  readonly term: number;
  readonly leader: string;
  readonly commit: number;
  readonly applied: number;
  readonly first_index: number;
  readonly last_index: number;
  readonly serving: boolean;
  readonly ready: boolean;
  readonly catching_up: boolean;
  readonly waiting: string;
  readonly voters: readonly string[];
  readonly snapshots_restored: number;
  readonly messages_fetched: number;
  readonly snapshot?: { readonly last_index: number; readonly installing: boolean; readonly sending: readonly string[] };
  readonly counters: { readonly electionsStarted: number; readonly preElectionsStarted: number; readonly snapshotsInstalled: number; readonly snapshotsTaken: number; readonly leadershipChanges: number };
  readonly peers?: ReadonlyArray<{ readonly id: string; readonly match: number; readonly lag: number }>;
}

export interface ChaosClusterOptions {
  readonly ids: readonly string[];
  readonly clusterId: string;
  readonly runDir: string;
  readonly seed: number;
  /** Extra flags for every node (e.g. `--cluster_trailing_logs 200`, `--cluster_sync=false`). */
  readonly args?: readonly string[];
  /** A test-only entry module instead of the CLI (a deliberately broken build). */
  readonly entry?: string;
  /** Environment for every node, beside the hooks' (e.g. the broken build's TSTAN_BROKEN). */
  readonly env?: Readonly<Record<string, string>>;
  readonly tstanRoot?: string;
  /** Each node's data on a tmpfs of this many bytes of its own (small-disk.ts), for disk-full faults. */
  readonly diskBytes?: number;
  /**
   * Nodes beyond the founding ones: they have links and directories but are started only when a
   * scenario adds them (`--cluster_peers` of the founders leaves them out).
   */
  readonly spares?: readonly string[];
  /** Environment of one node beside the common one (e.g. libfaketime for a clock fault). */
  readonly nodeEnv?: (id: string) => Readonly<Record<string, string>>;
  /**
   * Whether nodes write the Raft trace and fsync log (default true). The soak turns them off: an
   * hour of them is gigabytes the checkers would have to read.
   */
  readonly hooks?: boolean;
  /** Nodes run the built `dist/bin/tstan.js` instead of the sources under tsx (tstan-node.ts). */
  readonly built?: boolean;
}

const POLL_MS = 50;
const VIEW_TIMEOUT_MS = 1_000;
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class ChaosCluster {
  readonly nodes = new Map<string, TstanNode>();
  readonly disks = new SmallDisks();
  /**
   * Nodes that are no members (spares not added yet, nodes removed): never started by startAll()
   * or a heal, not expected among the nodes that converge.
   */
  readonly retired = new Set<string>();

  private constructor(
    readonly ids: readonly string[],
    readonly network: ChaosNetwork,
    readonly runDir: string,
  ) {}

  static async create(options: ChaosClusterOptions): Promise<ChaosCluster> {
    const spares = options.spares ?? [];
    const all = [...options.ids, ...spares];
    const routePorts = new Map<string, number>();
    for (const id of all) routePorts.set(id, await freePort());
    const network = await ChaosNetwork.create(routePorts, options.seed);
    const cluster = new ChaosCluster(all, network, options.runDir);
    for (const id of spares) cluster.retired.add(id);
    for (const id of all) {
      mkdirSync(cluster.nodeDir(id), { recursive: true });
      if (options.diskBytes !== undefined) cluster.disks.mount(cluster.nodeDir(id), options.diskBytes);
      const node = new TstanNode({
        name: id,
        clusterId: options.clusterId,
        dataDir: cluster.dataDir(id),
        runDir: options.runDir,
        port: await freePort(),
        httpPort: await freePort(),
        extraArgs: [
          // A spare names every other node: it has no state while they have, so it starts gated and
          // waits until the leader adds it.
          '--clustered', '--cluster_node_id', id, '--cluster_peers', (spares.includes(id) ? all : options.ids).join(','),
          '--cluster', `nats://127.0.0.1:${routePorts.get(id)}`,
          '--routes', network.routesOf(id).join(','),
          '--cluster_advertise', network.advertise,
          ...(options.args ?? []),
        ],
        env: { ...options.env, ...options.nodeEnv?.(id), ...(options.hooks === false ? {} : { TSTAN_RAFT_TRACE: cluster.traceFile(id), TSTAN_FSYNC_LOG: cluster.fsyncFile(id) }) },
        ...(options.entry !== undefined ? { entry: options.entry } : {}),
        ...(options.built === true ? { built: true } : {}),
        ...(options.tstanRoot !== undefined ? { tstanRoot: options.tstanRoot } : {}),
      });
      cluster.nodes.set(id, node);
    }
    return cluster;
  }

  nodeDir(id: string): string {
    return join(this.runDir, id);
  }

  dataDir(id: string): string {
    return join(this.nodeDir(id), 'data');
  }

  /** The Raft log and snapshots (the default `<data>/.raft`). */
  raftDir(id: string): string {
    return join(this.dataDir(id), '.raft');
  }

  traceFile(id: string): string {
    return join(this.runDir, `${id}.trace.ndjson`);
  }

  fsyncFile(id: string): string {
    return join(this.runDir, `${id}.fsync.ndjson`);
  }

  node(id: string): TstanNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  /** Members whose process runs. */
  get running(): string[] {
    return this.members.filter((id) => this.node(id).running);
  }

  /** The nodes that are members (or meant to be): every node less the retired ones. */
  get members(): string[] {
    return this.ids.filter((id) => !this.retired.has(id));
  }

  async startAll(timeoutMs = 60_000): Promise<void> {
    await Promise.all(this.members.map((id) => this.node(id).start(timeoutMs)));
  }

  /** The node's Raft view, or undefined if it does not answer within `timeoutMs` (paused, down). */
  async view(id: string, timeoutMs = VIEW_TIMEOUT_MS, digest = false): Promise<(ClusterView & { digest?: string }) | undefined> {
    const node = this.node(id);
    if (!node.running || node.isPaused) return undefined;
    try {
      const response = await fetch(`${node.monitorUrl}/streaming/clusterz${digest ? '?digest=1' : ''}`, { signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) return undefined;
      const body = (await response.json()) as ClusterView & { digest?: string };
      return body.term === undefined ? undefined : body;
    } catch {
      return undefined;
    }
  }

  async views(): Promise<Map<string, ClusterView>> {
    const answers = await Promise.all(this.members.map(async (id) => [id, await this.view(id)] as const));
    const out = new Map<string, ClusterView>();
    for (const [id, view] of answers) if (view !== undefined) out.set(id, view);
    return out;
  }

  /**
   * A node that leads and serves, in a term of at least `minTerm`, not in `not`, that a majority
   * of the cluster (itself included) names as leader; polls until `timeoutMs`.
   */
  async waitLeader(options: { not?: readonly string[]; minTerm?: number; timeoutMs?: number } = {}): Promise<{ id: string; term: number }> {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      const views = await this.views();
      for (const view of views.values()) {
        if (view.role !== 'Leader' || !view.serving || view.term < (options.minTerm ?? 0) || (options.not ?? []).includes(view.node_id)) continue;
        // A majority of the leader's configuration (it changes in the membership scenarios).
        const majority = Math.floor((view.voters.length || this.members.length) / 2) + 1;
        const followers = [...views.values()].filter((v) => v.leader === view.node_id && v.term === view.term).length;
        if (followers >= majority) return { id: view.node_id, term: view.term };
      }
      if (Date.now() > deadline) throw new Error(`no leader within ${options.timeoutMs ?? 30_000} ms: ${JSON.stringify([...views.values()].map((v) => [v.node_id, v.role, v.term, v.leader]))}`);
      await delay(POLL_MS);
    }
  }

  /**
   * Resolves once every running node answers with the same commit and applied index and a known
   * leader, twice in a row; returns that index. Rejects after `timeoutMs`.
   */
  async waitConverged(timeoutMs = 20_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let previous = -1;
    for (;;) {
      const running = this.running;
      const views = await Promise.all(running.map((id) => this.view(id)));
      const applied = new Set(views.map((v) => (v === undefined ? -1 : v.applied)));
      const commits = new Set(views.map((v) => (v === undefined ? -1 : v.commit)));
      const settled = views.every((v) => v !== undefined && v.leader !== '' && v.waiting === '' && v.applied === v.commit);
      if (settled && applied.size === 1 && commits.size === 1 && !applied.has(-1)) {
        const index = [...applied][0] as number;
        if (index === previous) return index;
        previous = index;
      } else previous = -1;
      if (Date.now() > deadline) throw new Error(`nodes did not converge within ${timeoutMs} ms: ${JSON.stringify(views.map((v, i) => [running[i], v?.role, v?.term, v?.commit, v?.applied, v?.waiting]))}`);
      await delay(POLL_MS * 2);
    }
  }

  /**
   * Under load: resolves once every running node has applied what the leader had committed when
   * this was called (once there was a leader); returns that index. Rejects after `timeoutMs`.
   */
  async waitCaughtUp(timeoutMs = 20_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    const leader = await this.waitLeader({ timeoutMs });
    const target = (await this.view(leader.id))?.commit ?? 0;
    for (;;) {
      const running = this.running;
      const views = await Promise.all(running.map((id) => this.view(id)));
      if (views.every((v) => v !== undefined && v.applied >= target)) return target;
      if (Date.now() > deadline) throw new Error(`nodes did not apply ${target} within ${timeoutMs} ms: ${JSON.stringify(views.map((v, i) => [running[i], v?.role, v?.term, v?.applied, v?.waiting]))}`);
      await delay(POLL_MS);
    }
  }

  /** Each running node's digest of its replicated state and messages, taken at one agreed applied index. */
  async digests(timeoutMs = 20_000): Promise<{ applied: number; digests: Map<string, string> }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const running = this.running;
      const views = await Promise.all(running.map((id) => this.view(id, 10_000, true)));
      const applied = new Set(views.map((v) => (v === undefined ? -1 : v.applied)));
      if (applied.size === 1 && !applied.has(-1)) {
        return { applied: [...applied][0] as number, digests: new Map(running.map((id, i) => [id, views[i]?.digest ?? ''])) };
      }
      if (Date.now() > deadline) throw new Error(`no agreed applied index for digests within ${timeoutMs} ms`);
      await delay(POLL_MS * 2);
    }
  }

  /** The channel's last sequence: the highest any running node reports. */
  async lastSeq(channel: string): Promise<number> {
    let last = 0;
    for (const id of this.running) {
      try {
        last = Math.max(last, await this.node(id).lastSeq(channel));
      } catch {
        // A node that does not answer does not lower the bound.
      }
    }
    return last;
  }

  /** Has node `id` snapshot its state now (its log is compacted behind it, keeping the trailing logs). */
  async snapshot(id: string): Promise<number> {
    const response = await fetch(`${this.node(id).monitorUrl}/streaming/clusterz/snapshot`, { signal: AbortSignal.timeout(30_000) });
    if (!response.ok) throw new Error(`snapshot on ${id}: HTTP ${response.status} ${await response.text()}`);
    return ((await response.json()) as { index: number }).index;
  }

  errorLines(): Map<string, string[]> {
    return new Map(this.ids.map((id) => [id, this.node(id).errorLines()]));
  }

  /** Stops every node (continuing paused ones first) and every proxy; safe in any state. */
  async close(): Promise<void> {
    await Promise.all(this.ids.map((id) => this.node(id).stop().catch(() => undefined)));
    await this.network.close();
    this.disks.unmountAll();
  }
}
