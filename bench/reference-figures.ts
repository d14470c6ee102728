// Figures of the reference server (nats-streaming-server v0.25.3) on these workloads on a 2-core
// machine of the kind tstan runs on, medians; absolute figures move by about ±20% between runs and
// machines. It cannot be installed here, so they are printed beside our own figures. Two sets:
// with node-nats-streaming (client-bound near 55-70k msgs/s) and with the reference's Go benchmark
// client, which does not saturate first: compare the fast clients (C, lean) with the latter.
// Of its 3-node clusters only node-nats-streaming figures exist (docs/benchmarks.md §5): they are
// printed for every client, marked as such, with the targets of §6 for tstan's clusters.
import type { ClientKind, WorkloadName } from './client-result.js';
import type { ReferenceKey } from './deployments.js';
import type { StoreKind } from './tstan-server.js';

export interface ReferenceFigures {
  readonly msgsPerSec: Partial<Record<WorkloadName, number>>;
  /** W2 sync publish latency. */
  readonly w2P50Ms: number;
  readonly w2P99Ms: number;
  readonly serverCpuUsPerMsg?: Partial<Record<WorkloadName, number>>;
  readonly serverPeakRssMb?: Partial<Record<WorkloadName, number>>;
}

const WITH_NODE_CLIENT: Record<StoreKind, ReferenceFigures> = {
  MEMORY: { msgsPerSec: { W1: 60_000, W3: 52_200, W4: 13_100 }, w2P50Ms: 0.21, w2P99Ms: 1.12 },
  FILE: { msgsPerSec: { W1: 71_800, W3: 55_400, W4: 12_200 }, w2P50Ms: 0.62, w2P99Ms: 1.82 },
};

const WITH_FAST_CLIENT: Record<StoreKind, ReferenceFigures> = {
  MEMORY: {
    msgsPerSec: { W1: 196_500, W3: 122_200, W4: 30_900 },
    w2P50Ms: 0.16,
    w2P99Ms: 0.39,
    serverCpuUsPerMsg: { W1: 6.3, W3: 10.1, W4: 38.5 },
    serverPeakRssMb: { W1: 74, W2: 23 },
  },
  FILE: {
    msgsPerSec: { W1: 145_800, W3: 101_900, W4: 26_000 },
    w2P50Ms: 0.63,
    w2P99Ms: 3.21,
    serverCpuUsPerMsg: { W1: 8.3, W3: 11.1, W4: 47.5 },
    serverPeakRssMb: { W1: 85, W2: 23 },
  },
};

/** The reference's 3-node clusters, node-nats-streaming; 12-14 µs/msg summed over the nodes, 80-140 MB per node. */
const CLUSTER_WITH_NODE_CLIENT: Record<'cluster-sync' | 'cluster-nosync', ReferenceFigures> = {
  'cluster-sync': { msgsPerSec: { W1: 36_600, W3: 33_000, W4: 7_500 }, w2P50Ms: 2.55, w2P99Ms: 5.05 },
  'cluster-nosync': { msgsPerSec: { W1: 60_000, W3: 37_300, W4: 10_900 }, w2P50Ms: 0.79, w2P99Ms: 2.84 },
};
const CLUSTER_CPU_US_PER_MSG = '12-14 µs/msg Σ nodes';
const CLUSTER_RSS_MB = '80-140 MB/node';

export function referenceFigures(client: ClientKind, store: StoreKind): ReferenceFigures {
  return client === 'node' ? WITH_NODE_CLIENT[store] : WITH_FAST_CLIENT[store];
}

/** One line for a table cell, e.g. `196,500 msgs/s · 6.3 µs/msg · 74 MB`. */
export function describeReference(client: ClientKind, key: ReferenceKey, workload: WorkloadName): string {
  if (key === 'jetstream') return 'none: not a STAN server, run for scale';
  if (key === 'cluster-sync' || key === 'cluster-nosync') return describeClusterReference(client, key, workload);
  const figures = referenceFigures(client, key);
  const parts: string[] = [];
  if (workload === 'W2') parts.push(`p50 ${figures.w2P50Ms} / p99 ${figures.w2P99Ms} ms`);
  const rate = figures.msgsPerSec[workload];
  if (rate !== undefined) parts.push(`${rate.toLocaleString('en-US')} msgs/s`);
  const cpu = figures.serverCpuUsPerMsg?.[workload];
  if (cpu !== undefined) parts.push(`${cpu} µs/msg`);
  const rss = figures.serverPeakRssMb?.[workload];
  if (rss !== undefined) parts.push(`${rss} MB`);
  return parts.join(' · ');
}

function describeClusterReference(client: ClientKind, key: 'cluster-sync' | 'cluster-nosync', workload: WorkloadName): string {
  const figures = CLUSTER_WITH_NODE_CLIENT[key];
  const parts: string[] = [];
  if (workload === 'W2') parts.push(`p50 ${figures.w2P50Ms} / p99 ${figures.w2P99Ms} ms`);
  const rate = figures.msgsPerSec[workload];
  if (rate !== undefined) parts.push(`${rate.toLocaleString('en-US')} msgs/s`);
  parts.push(CLUSTER_CPU_US_PER_MSG, CLUSTER_RSS_MB);
  if (client !== 'node') parts.push('(with node-nats-streaming)');
  return parts.join(' · ');
}

/** A target of docs/benchmarks.md §6 and issue 11 for one workload, and whether a row meets it. */
export interface Target {
  readonly text: string;
  met(msgsPerSec: number, w2P50Ms: number): boolean;
}

/**
 * The cluster targets: durable, every workload at least the reference's `--cluster_sync` figure
 * (1.5× on W1 and W3 as the stretch) and W2 p50 at most 1.2 ms; `--cluster_sync=false`, at least
 * the reference cluster's default figures. Undefined for standalone configurations (their
 * reference cell says what to beat).
 */
export function clusterTarget(key: ReferenceKey, workload: WorkloadName): Target | undefined {
  if (key !== 'cluster-sync' && key !== 'cluster-nosync') return undefined;
  const figures = CLUSTER_WITH_NODE_CLIENT[key];
  if (workload === 'W2') {
    const p50Max = key === 'cluster-sync' ? 1.2 : figures.w2P50Ms;
    return { text: `p50 ≤ ${p50Max} ms`, met: (_rate, p50) => p50 <= p50Max };
  }
  const floor = figures.msgsPerSec[workload] ?? 0;
  const stretch = key === 'cluster-sync' && workload !== 'W4' ? ` (stretch ${(floor * 1.5).toLocaleString('en-US')})` : '';
  return { text: `≥ ${floor.toLocaleString('en-US')} msgs/s${stretch}`, met: (rate) => rate >= floor };
}
