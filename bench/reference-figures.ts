// Figures of the reference server (nats-streaming-server v0.25.3) on these workloads on a 2-core
// machine of the kind tstan runs on, medians; absolute figures move by about ±20% between runs and
// machines. It cannot be installed here, so they are printed beside our own figures. Two sets:
// with node-nats-streaming (client-bound near 55-70k msgs/s) and with the reference's Go benchmark
// client, which does not saturate first: compare the fast clients (C, lean) with the latter.
import type { ClientKind, WorkloadName } from './client-result.js';
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

export function referenceFigures(client: ClientKind, store: StoreKind): ReferenceFigures {
  return client === 'node' ? WITH_NODE_CLIENT[store] : WITH_FAST_CLIENT[store];
}

/** One line for a table cell, e.g. `196,500 msgs/s · 6.3 µs/msg · 74 MB`. */
export function describeReference(client: ClientKind, store: StoreKind, workload: WorkloadName): string {
  const figures = referenceFigures(client, store);
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
