// Prometheus metrics of one tstan server instance, on a prom-client Registry of its own (never the
// default one, so several servers run in one process). Counters are bumped by the server once per
// batch; gauges (depth, subscriptions, pending acks) are read from a source at scrape time, so the
// hot path never maintains them.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RawResponse, type MonitorHandler } from './http-server.js';

export const METRICS_PATH = '/metrics';

/** Store write latency buckets (seconds): from an in-memory append to a slow fsync. */
export const STORE_WRITE_BUCKETS_SECONDS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

export interface ChannelDepth {
  readonly name: string;
  readonly msgs: number;
  readonly bytes: number;
}

/** What the gauges read at scrape time; the server supplies it. */
export interface MetricsGaugeSource {
  clients(): number;
  channels(): Iterable<ChannelDepth>;
  /** Every subscription, offline durables included. */
  subscriptions(): number;
  /** Messages sent and not yet acknowledged, over every subscription. */
  pendingAcks(): number;
  /** Called before each scrape, so that counters the server keeps elsewhere are brought up to date. */
  beforeScrape?(): void;
}

/** A clustered node's Raft state, read at scrape time. */
export interface RaftMetricsSource {
  role(): string;
  term(): number;
  commitIndex(): number;
  appliedIndex(): number;
  /** The commit index last heard from a leader (what this node must apply to be caught up). */
  leaderCommit(): number;
  electionsStarted(): number;
  leadershipChanges(): number;
  snapshotsTaken(): number;
  snapshotsInstalled(): number;
  /** Raft log fsyncs per applied entry: well below 1 when group commit works. */
  syncsPerAppliedEntry(): number;
  /** Leader: how many entries each peer's log is behind. */
  peerLag(): Iterable<{ readonly peer: string; readonly lag: number }>;
}

export interface StreamingMetricsOptions {
  /** Also export Node process metrics (CPU, memory, event loop lag, GC). Default true. */
  processMetrics?: boolean;
  /** Labels added to every metric, e.g. { node: 'a' } in a cluster. */
  defaultLabels?: Record<string, string>;
}

export class StreamingMetrics {
  readonly registry = new Registry();
  private source: MetricsGaugeSource | undefined;

  private readonly messagesIn: Counter;
  private readonly bytesIn: Counter;
  private readonly messagesOut: Counter;
  private readonly bytesOut: Counter;
  private readonly redeliveries: Counter;
  private readonly storeWrite: Histogram;

  constructor(options: StreamingMetricsOptions = {}) {
    const registers = [this.registry];
    if (options.defaultLabels !== undefined) this.registry.setDefaultLabels(options.defaultLabels);
    this.messagesIn = new Counter({ name: 'tstan_messages_in_total', help: 'Messages published and stored', registers });
    this.bytesIn = new Counter({ name: 'tstan_bytes_in_total', help: 'Payload bytes published and stored', registers });
    this.messagesOut = new Counter({
      name: 'tstan_messages_out_total',
      help: 'Messages delivered to subscriptions, redeliveries included',
      registers,
    });
    this.bytesOut = new Counter({ name: 'tstan_bytes_out_total', help: 'Payload bytes delivered', registers });
    this.redeliveries = new Counter({
      name: 'tstan_redeliveries_total',
      help: 'Messages redelivered after their ack wait expired',
      registers,
    });
    this.storeWrite = new Histogram({
      name: 'tstan_store_write_seconds',
      help: 'Time from handing a batch to the store until it is durable',
      buckets: STORE_WRITE_BUCKETS_SECONDS,
      registers,
    });
    this.registerGauges();
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'tstan_' });
  }

  private registerGauges(): void {
    const registers = [this.registry];
    const metrics = this;
    new Gauge({
      name: 'tstan_clients', help: 'Connected clients', registers,
      collect() { this.set(metrics.source?.clients() ?? 0); },
    });
    new Gauge({
      name: 'tstan_channels', help: 'Channels', registers,
      collect() { this.set(metrics.source === undefined ? 0 : [...metrics.source.channels()].length); },
    });
    new Gauge({
      name: 'tstan_subscriptions', help: 'Subscriptions, offline durables included', registers,
      collect() { this.set(metrics.source?.subscriptions() ?? 0); },
    });
    new Gauge({
      name: 'tstan_pending_acks', help: 'Messages sent and not yet acknowledged', registers,
      collect() { this.set(metrics.source?.pendingAcks() ?? 0); },
    });
    new Gauge({
      name: 'tstan_channel_messages', help: 'Messages stored per channel (depth)', labelNames: ['channel'], registers,
      collect() {
        // Reset first, so a deleted channel's series disappears.
        this.reset();
        for (const c of metrics.source?.channels() ?? []) this.set({ channel: c.name }, c.msgs);
      },
    });
    new Gauge({
      name: 'tstan_channel_bytes', help: 'Bytes stored per channel', labelNames: ['channel'], registers,
      collect() {
        this.reset();
        for (const c of metrics.source?.channels() ?? []) this.set({ channel: c.name }, c.bytes);
      },
    });
  }

  /** Raft gauges of a clustered node (registered on the first call). */
  setRaftSource(source: RaftMetricsSource): void {
    const registers = [this.registry];
    const gauge = (name: string, help: string, read: (s: RaftMetricsSource) => number): void => {
      new Gauge({ name, help, registers, collect() { this.set(read(source)); } });
    };
    new Gauge({
      name: 'tstan_raft_role', help: 'Raft role of this node (1 for the current one)', labelNames: ['role'], registers,
      collect() {
        this.reset();
        this.set({ role: source.role() }, 1);
      },
    });
    gauge('tstan_raft_term', 'Current Raft term', (s) => s.term());
    gauge('tstan_raft_commit_index', 'Highest log index known committed', (s) => s.commitIndex());
    gauge('tstan_raft_applied_index', 'Highest log index applied to the streaming state', (s) => s.appliedIndex());
    gauge('tstan_raft_apply_lag', 'Entries heard committed from a leader and not yet applied here', (s) => Math.max(0, s.leaderCommit() - s.appliedIndex()));
    gauge('tstan_raft_elections_started', 'Elections this node started since it started', (s) => s.electionsStarted());
    gauge('tstan_raft_leadership_changes', 'Times this node saw a new leader since it started', (s) => s.leadershipChanges());
    gauge('tstan_raft_snapshots_taken', 'Snapshots of its own state this node took since it started', (s) => s.snapshotsTaken());
    gauge('tstan_raft_snapshots_installed', 'Snapshots this node installed from a leader since it started', (s) => s.snapshotsInstalled());
    gauge('tstan_raft_fsyncs_per_entry', 'Raft log fsyncs per applied entry', (s) => s.syncsPerAppliedEntry());
    new Gauge({
      name: 'tstan_raft_peer_lag', help: 'Leader: entries each peer is behind', labelNames: ['peer'], registers,
      collect() {
        this.reset();
        for (const { peer, lag } of source.peerLag()) this.set({ peer }, lag);
      },
    });
  }

  /** Where the gauges read from; set once the server's state exists. */
  setGaugeSource(source: MetricsGaugeSource): void {
    this.source = source;
  }

  /** One stored batch of `msgs` messages carrying `bytes` payload bytes. */
  recordPublished(msgs: number, bytes: number): void {
    this.messagesIn.inc(msgs);
    this.bytesIn.inc(bytes);
  }

  recordDelivered(msgs: number, bytes: number): void {
    this.messagesOut.inc(msgs);
    this.bytesOut.inc(bytes);
  }

  recordRedelivered(msgs: number): void {
    this.redeliveries.inc(msgs);
  }

  observeStoreWriteSeconds(seconds: number): void {
    this.storeWrite.observe(seconds);
  }

  /** Convenience for `process.hrtime.bigint()` stamps taken around a store write. */
  observeStoreWriteNs(startNs: bigint, endNs: bigint): void {
    this.storeWrite.observe(Number(endNs - startNs) / 1e9);
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The `/metrics` handler for the monitoring HTTP server (Prometheus text format). */
  handler(): MonitorHandler {
    return async () => {
      this.source?.beforeScrape?.();
      return new RawResponse(this.registry.contentType, await this.registry.metrics());
    };
  }
}
