// The soak's resource figures: what one sample of a node holds (RSS, open file descriptors, bytes
// of its Raft directory, V8 heap and external memory), a line per sample for the console, and the
// judgement that they stay flat. Flat means: each node's peak over the second half of the judged
// time (after the settling minute) is within a tenth (plus a small absolute slack) of its peak
// over the first half. Halves, not the first and last fifths, because a process warms up for
// minutes (V8 sizes its heap, the message cache and LevelDB's fill to their bounds): a plateau
// reached in the first half is no growth, a leak keeps adding in the second. The slope of the
// per-minute peaks is reported over the whole run and over the second half, per hour: a plateau's
// late slope is about 0, a leak's is its rate. Peaks, not means, because a node restarted by a
// kill starts small again and grows back, and a Raft log grows and is compacted in waves.

export interface ResourceSample {
  /** Since the load started. */
  readonly tMs: number;
  readonly node: string;
  /** `L`, `F` or `?` (did not answer); samples of a node that is down are not taken. */
  readonly role: string;
  readonly rssBytes: number;
  readonly fds: number;
  /** Every file under the node's Raft directory: log, snapshots, markers. */
  readonly raftBytes: number;
  /**
   * Entries its log holds (last index - first index + 1; 0 if it did not answer): bounded by the
   * trailing logs kept after a snapshot (10,240) plus what arrives between two (every 2 min).
   */
  readonly raftEntries: number;
  /** V8's heap in use and reserved, and memory held outside it (Buffers), from the node's /metrics. */
  readonly heapUsedBytes?: number;
  readonly heapTotalBytes?: number;
  readonly externalBytes?: number;
}

export const soakMetrics = ['rssBytes', 'fds', 'raftBytes'] as const;
export type SoakMetric = (typeof soakMetrics)[number];

export interface FlatnessLimits {
  /** Samples before this are warm-up (JIT, caches, the first snapshot) and not judged. */
  readonly settleMs: number;
  /** The second half's peak may exceed the first half's by this fraction... */
  readonly growthFractionMax: number;
  /** ...plus this much, per metric. */
  readonly slack: Readonly<Record<SoakMetric, number>>;
}

export const defaultFlatnessLimits: FlatnessLimits = {
  settleMs: 60_000,
  growthFractionMax: 0.1,
  slack: { rssBytes: 8 * 2 ** 20, fds: 8, raftBytes: 8 * 2 ** 20 },
};

export interface Flatness {
  readonly node: string;
  readonly metric: SoakMetric;
  /** Peak over the first half of the judged time. */
  readonly earlyMax: number;
  /** Peak over the second half. */
  readonly lateMax: number;
  /** Least-squares slope of the per-minute peaks, per hour (may be negative), over the judged time... */
  readonly slopePerHour: number;
  /** ...and over its second half only: about 0 for a plateau, the rate of a leak. */
  readonly lateSlopePerHour: number;
  readonly flat: boolean;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** Each node's and metric's first- and second-half peaks, their slopes, and whether they stayed flat. */
export function judgeFlatness(samples: readonly ResourceSample[], limits: FlatnessLimits = defaultFlatnessLimits): Flatness[] {
  const judged = samples.filter((s) => s.tMs >= limits.settleMs);
  if (judged.length === 0) return [];
  const endMs = Math.max(...judged.map((s) => s.tMs));
  const middleMs = limits.settleMs + (endMs - limits.settleMs) / 2;
  const out: Flatness[] = [];
  for (const node of [...new Set(judged.map((s) => s.node))].sort()) {
    const mine = judged.filter((s) => s.node === node);
    for (const metric of soakMetrics) {
      const peak = (from: number, to: number) => Math.max(0, ...mine.filter((s) => s.tMs >= from && s.tMs <= to).map((s) => s[metric]));
      const earlyMax = peak(limits.settleMs, middleMs);
      const lateMax = peak(middleMs, endMs);
      const flat = lateMax <= earlyMax * (1 + limits.growthFractionMax) + limits.slack[metric];
      const lateSlopePerHour = slopeOfMinutePeaks(mine.filter((s) => s.tMs >= middleMs), metric);
      out.push({ node, metric, earlyMax, lateMax, slopePerHour: slopeOfMinutePeaks(mine, metric), lateSlopePerHour, flat });
    }
  }
  return out;
}

function slopeOfMinutePeaks(samples: readonly ResourceSample[], metric: SoakMetric): number {
  const peaks = new Map<number, number>();
  for (const s of samples) {
    const minute = Math.floor(s.tMs / MINUTE_MS);
    peaks.set(minute, Math.max(peaks.get(minute) ?? 0, s[metric]));
  }
  const points = [...peaks].map(([minute, value]) => ({ x: minute * MINUTE_MS, y: value }));
  if (points.length < 2) return 0;
  const meanX = points.reduce((a, p) => a + p.x, 0) / points.length;
  const meanY = points.reduce((a, p) => a + p.y, 0) / points.length;
  const covariance = points.reduce((a, p) => a + (p.x - meanX) * (p.y - meanY), 0);
  const variance = points.reduce((a, p) => a + (p.x - meanX) ** 2, 0);
  return variance === 0 ? 0 : (covariance / variance) * HOUR_MS;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export function formatMetric(metric: SoakMetric, value: number): string {
  return metric === 'fds' ? String(Math.round(value)) : mib(value);
}

function clock(tMs: number): string {
  const seconds = Math.round(tMs / 1000);
  return `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
}

/** One console line for the samples of one round (every node's, taken together). */
export function formatSampleLine(tMs: number, round: readonly ResourceSample[], harnessRssBytes: number): string {
  const heap = (s: ResourceSample) => (s.heapUsedBytes === undefined ? '' : ` heap ${mib(s.heapUsedBytes)}/${mib(s.heapTotalBytes ?? 0)} ext ${mib(s.externalBytes ?? 0)}`);
  const nodes = round.map((s) => `${s.node} ${s.role} rss ${mib(s.rssBytes)}${heap(s)} fds ${s.fds} raft ${mib(s.raftBytes)} ${s.raftEntries} entries`);
  return `soak ${clock(tMs)}  ${nodes.join(' | ')} | harness rss ${mib(harnessRssBytes)}`;
}

/** The judgement as a table: one row per node and metric. */
export function formatFlatness(rows: readonly Flatness[]): string {
  const signed = (metric: SoakMetric, value: number) => `${value >= 0 ? '+' : '-'}${formatMetric(metric, Math.abs(value))}`;
  const lines = ['node  metric     1st-half peak 2nd-half peak slope/hour    2nd-half slope/hour verdict'];
  for (const r of rows) {
    lines.push(`${r.node.padEnd(5)} ${r.metric.padEnd(10)} ${formatMetric(r.metric, r.earlyMax).padEnd(13)} ${formatMetric(r.metric, r.lateMax).padEnd(13)} ${signed(r.metric, r.slopePerHour).padEnd(13)} ${signed(r.metric, r.lateSlopePerHour).padEnd(19)} ${r.flat ? 'flat' : 'GROWS'}`);
  }
  return lines.join('\n') + '\n';
}
