// The server configurations the STAN workloads run against (docs/benchmarks.md §2): a standalone
// tstan (MEMORY, or FILE with fsync on), or a 3-node cluster (durable by default, or with
// `--cluster_sync=false`) with the client attached to a follower or to the leader. Each run starts
// a fresh deployment of one build and stops it afterwards; the driver reads every node's CPU and
// peak RSS through the `nodes` it gets back, each named by its role in that run, and of a tstan
// node also its main thread's CPU.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientKind } from './client-result.js';
import { startCluster, type RunningCluster } from './tstan-cluster.js';
import { startListening, startServer, type ServerBuild, type StoreKind } from './tstan-server.js';

/** A node as the report names it: '' standalone; L, F1 (the client's follower, if any), F2 in a cluster. */
export interface NodeUse {
  readonly role: string;
  /** All threads' CPU seconds. */
  cpuSeconds(): number;
  /**
   * The main thread's alone: in a tstan node the JavaScript thread, without V8's compiler and GC
   * threads and libuv's threadpool. Left out where threads say nothing of the cost (nats-server).
   */
  mainThreadCpuSeconds?(): number;
  peakRssMb(): number;
}

/** What the servers' side of a run showed that a run without faults should not (read before stop()). */
export interface ServerFindings {
  /** Lines the servers logged at error level, prefixed with the node's ID. */
  readonly errorLines: string[];
  /** E.g. a change of leader: nothing in a benchmark run provokes one. */
  readonly notes: string[];
  /** Where the nodes' logs were copied when there is anything above to look into. */
  readonly logsKeptIn?: string;
}

/** One started deployment, for one run. */
export interface Deployment {
  /** The URL the client is given. */
  readonly url: string;
  readonly nodes: readonly NodeUse[];
  findings(): Promise<ServerFindings>;
  stop(): Promise<void>;
}

export type ClusterClientNode = 'follower' | 'leader';
export const CLUSTER_CLIENT_NODES: readonly ClusterClientNode[] = ['follower', 'leader'];

/** A configuration the workloads run against. */
export interface BenchConfig {
  /** Short and stable: MEMORY, FILE, cluster-sync/follower, cluster-nosync/leader, ... */
  readonly key: string;
  /** For people: `standalone FILE (fsync on)`, `3 nodes, --cluster_sync, client on a follower`. */
  readonly name: string;
  /** Which set of reference figures applies (reference-figures.ts). */
  readonly reference: ReferenceKey;
  /** MEMORY or FILE: where the messages are kept. */
  readonly store: StoreKind;
  /** Added to the client's command line (e.g. the C client's `--jetstream file`). */
  readonly clientArgs?: readonly string[];
  /** Only these clients can run against it (default: all). */
  readonly clients?: readonly ClientKind[];
  /** Not a tstan: runs once per run, whatever build is compared (and not in a comparison). */
  readonly buildIndependent?: boolean;
  start(build: ServerBuild): Promise<Deployment>;
}

export type ReferenceKey = StoreKind | 'cluster-sync' | 'cluster-nosync' | 'jetstream';

export function standaloneConfig(store: StoreKind): BenchConfig {
  return {
    key: store,
    name: store === 'FILE' ? 'standalone FILE (fsync on)' : 'standalone MEMORY',
    reference: store,
    store,
    async start(build) {
      const server = await startServer(build, store);
      return {
        url: server.url,
        nodes: [{ role: '', cpuSeconds: server.cpuSeconds, mainThreadCpuSeconds: server.mainThreadCpuSeconds, peakRssMb: server.peakRssMb }],
        findings: async () => ({ errorLines: [], notes: [] }),
        stop: server.stop,
      };
    },
  };
}

/**
 * 3 nodes, FILE store, `sync` true for tstan's default `--cluster_sync` (fsync on a majority before
 * the ack). The client's URL is the leader's, or a follower's (found through /streaming/clusterz
 * once a leader serves): then publishes and deliveries cross a route to the leader and back.
 */
export function clusterConfig(sync: boolean, clientNode: ClusterClientNode): BenchConfig {
  return {
    key: `cluster-${sync ? 'sync' : 'nosync'}/${clientNode}`,
    name: `3 nodes, ${sync ? '--cluster_sync (default)' : '--cluster_sync=false'}, client on the ${clientNode}`,
    reference: sync ? 'cluster-sync' : 'cluster-nosync',
    store: 'FILE',
    async start(build) {
      const cluster = await startCluster(build, { size: 3, sync });
      try {
        const leaderId = await cluster.leader();
        const leader = cluster.node(leaderId);
        const startTerm = (await leader.view())?.term ?? 0;
        const followers = cluster.nodes.filter((node) => node.id !== leaderId);
        const entry = clientNode === 'leader' ? leader : followers[0]!;
        const named = [
          { role: 'L', node: leader },
          { role: 'F1', node: followers[0]! },
          { role: 'F2', node: followers[1]! },
        ];
        return {
          url: entry.url,
          nodes: named.map(({ role, node }) => ({
            role,
            cpuSeconds: () => node.cpuSeconds(),
            mainThreadCpuSeconds: () => node.mainThreadCpuSeconds(),
            peakRssMb: () => node.peakRssMb(),
          })),
          async findings() {
            const errorLines = [...cluster.errorLines()].flatMap(([id, lines]) => lines.map((line) => `${id}: ${line}`));
            const notes = await leadershipNotes(cluster, leaderId, startTerm);
            const logsKeptIn = errorLines.length + notes.length > 0 ? cluster.keepLogs() : undefined;
            return { errorLines, notes, ...(logsKeptIn !== undefined ? { logsKeptIn } : {}) };
          },
          stop: () => cluster.stop(),
        };
      } catch (error) {
        await cluster.stop();
        throw error;
      }
    },
  };
}

/** Says so when the leader or the term is no longer the one the run started with. */
async function leadershipNotes(cluster: RunningCluster, leaderId: string, startTerm: number): Promise<string[]> {
  const views = await Promise.all(cluster.nodes.map((node) => node.view()));
  const moved = views.filter((view) => view !== undefined && (view.term !== startTerm || view.leader !== leaderId));
  const now = views.map((view, i) => (view === undefined ? `${cluster.nodes[i]!.id}: no answer` : `${view.node_id}: term ${view.term}, leader ${view.leader || 'none'}`));
  if (moved.length > 0) return [`leadership changed during the run (started: leader ${leaderId}, term ${startTerm}; now ${now.join('; ')})`];
  if (views.some((view) => view === undefined)) return [`a node did not answer /streaming/clusterz within 1 s after the run (${now.join('; ')})`];
  return [];
}

/** Every cluster configuration of `syncs` × `clientNodes`, durable first. */
export function clusterConfigs(syncs: readonly boolean[] = [true, false], clientNodes: readonly ClusterClientNode[] = CLUSTER_CLIENT_NODES): BenchConfig[] {
  return syncs.flatMap((sync) => clientNodes.map((clientNode) => clusterConfig(sync, clientNode)));
}

/** The nats-server on PATH (Debian's package), or undefined when there is none. */
export function natsServerVersion(): string | undefined {
  const probe = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  if (probe.status !== 0) return undefined;
  return /v?(\d+\.\d+\.\d+)/.exec(probe.stdout)?.[1] ?? 'unknown version';
}

/**
 * Debian's nats-server with JetStream, one node, one stream kept in memory or in files: the same C
 * client runs the same workloads through libnats' JetStream API, for scale beside tstan. It is
 * not a STAN server, so there is no reference figure to hold it to and no build to compare. Its
 * file storage does not fsync per message (nats-server syncs every 2 minutes by default), where
 * tstan's FILE store fsyncs before every PubAck: the rows say so.
 */
export function jetStreamConfig(store: StoreKind, version: string): BenchConfig {
  const storage = store === 'FILE' ? 'file' : 'memory';
  return {
    key: `jetstream-${store}`,
    name: `nats-server ${version} JetStream, ${store === 'FILE' ? 'file storage (no fsync per message)' : 'memory storage'}`,
    reference: 'jetstream',
    store,
    clientArgs: ['--jetstream', storage],
    clients: ['c'],
    buildIndependent: true,
    async start() {
      const dataDir = mkdtempSync(join(tmpdir(), 'tstan-bench-jetstream-'));
      const server = await startListening({ label: 'nats-server', command: 'nats-server', args: ['-js', '-sd', dataDir], dataDir });
      return {
        url: server.url,
        // No main-thread figure: Go schedules its goroutines on threads of its own choosing.
        nodes: [{ role: '', cpuSeconds: server.cpuSeconds, peakRssMb: server.peakRssMb }],
        findings: async () => ({ errorLines: [], notes: [] }),
        stop: server.stop,
      };
    },
  };
}
