// The chaos workload (docs/testing.md §5.4): publishers with unique payloads `p<proc>-<n>` at a bounded
// rate over channels c0..ck, a durable manual-ack subscriber per channel and optionally a durable
// queue group, then a drain: subscribers read to the channel's last sequence and a fresh
// deliver-all reader reads each channel from sequence 1. Every wait is bounded; a reader that stops
// short of the end (nothing new for drainTimeoutMs) records its drain as `info`, which the checkers
// treat as a harness error.
import type { HistoryRecorder } from './history.js';
import { deriveSeed, seededRandom } from './random.js';
import { StanSession } from './stan-client.js';
import { Publisher, Subscriber, connectWithRetries, type ClientContext, type ClientSettings, type WorkloadTarget } from './workload-clients.js';

export interface WorkloadConfig extends ClientSettings {
  readonly channels: readonly string[];
  readonly publishers: number;
  /** Per publisher. */
  readonly publishRateHz: number;
  readonly publishOutstandingMax: number;
  readonly maxInFlight: number;
  readonly ackWaitMs: number;
  /** Members of a durable queue group per channel; 0 for none. */
  readonly queueGroupMembers: number;
  /** A drain's reader that gets nothing new for this long did not read to the end. */
  readonly drainTimeoutMs: number;
}

export const defaultWorkload: WorkloadConfig = {
  clusterId: 'jepsen',
  channels: ['c0', 'c1'],
  publishers: 4,
  publishRateHz: 50,
  publishOutstandingMax: 32,
  pubAckTimeoutMs: 2_000,
  connectTimeoutMs: 2_000,
  reconnectDelayMs: 250,
  maxInFlight: 64,
  ackWaitMs: 2_000,
  queueGroupMembers: 2,
  drainTimeoutMs: 15_000,
};

/** Where the drain reads: the channel's last sequence (on a cluster, once its nodes agree). */
export interface DrainTarget extends WorkloadTarget {
  lastSeq(channel: string): Promise<number>;
}

const DRAIN_MAX_IN_FLIGHT = 1024;
const POLL_MS = 20;
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the sets in `seen` (which only grow) hold every sequence 1..last between them; false
 * once none of them has grown for `stallMs`. A reader is judged by whether it stopped, not by how
 * long a channel takes to read: a soak's channels hold hundreds of thousands of messages.
 */
export async function waitCovered(seen: readonly ReadonlySet<number>[], last: number, stallMs: number): Promise<boolean> {
  let next = 1; // every sequence below it is covered
  let sizes = 0;
  let grewAt = Date.now();
  for (;;) {
    while (next <= last && seen.some((set) => set.has(next))) next++;
    if (next > last) return true;
    const now = seen.reduce((sum, set) => sum + set.size, 0);
    if (now !== sizes) {
      sizes = now;
      grewAt = Date.now();
    } else if (Date.now() - grewAt > stallMs) {
      return false;
    }
    await delay(POLL_MS);
  }
}

export class Workload {
  readonly publishers: Publisher[] = [];
  readonly subscribers: Subscriber[] = [];
  private readonly ctx: ClientContext;
  private readonly drainSessions: StanSession[] = [];

  constructor(
    readonly config: WorkloadConfig,
    private readonly target: DrainTarget,
    private readonly history: HistoryRecorder,
    seed: number,
  ) {
    this.ctx = { settings: config, target, history, randomFor: (label) => seededRandom(deriveSeed(seed, label)) };
    const c = config;
    const subOptions = { maxInFlight: c.maxInFlight, ackWaitMs: c.ackWaitMs, manualAcks: true };
    for (const channel of c.channels) {
      this.subscribers.push(
        new Subscriber(this.ctx, { proc: `sub-${channel}`, clientId: `sub-${channel}`, channel, reader: 'durable', readerKind: 'durable', options: { ...subOptions, durableName: 'dur' } }),
      );
      for (let m = 0; m < c.queueGroupMembers; m++) {
        const proc = `q-${channel}-${m}`;
        const options = { ...subOptions, durableName: 'qdur', queueGroup: 'workers' };
        this.subscribers.push(new Subscriber(this.ctx, { proc, clientId: proc, channel, reader: 'workers', readerKind: 'queue', options }));
      }
    }
    for (let i = 0; i < c.publishers; i++) this.publishers.push(new Publisher(this.ctx, i, c.channels, c.publishRateHz, c.publishOutstandingMax));
  }

  /** Subscribers first, so that every publish has its readers. */
  async start(): Promise<void> {
    await Promise.all(this.subscribers.map((s) => s.start()));
    await Promise.all(this.publishers.map((p) => p.start()));
  }

  async stopPublishers(): Promise<void> {
    await Promise.all(this.publishers.map((p) => p.stop()));
  }

  /** After the publishers stop: every reader reads each channel to its last sequence. */
  async drain(): Promise<void> {
    await this.stopPublishers();
    for (const s of this.subscribers) {
      s.holdAcks = false;
      s.ackDropProbability = 0;
    }
    await Promise.all(this.config.channels.map((channel) => this.drainChannel(channel)));
  }

  private async drainChannel(channel: string): Promise<void> {
    const last = await this.target.lastSeq(channel);
    const groups = new Map<string, Subscriber[]>();
    for (const s of this.subscribers.filter((x) => x.channel === channel)) {
      const members = groups.get(s.spec.reader) ?? [];
      members.push(s);
      groups.set(s.spec.reader, members);
    }
    const waits = [...groups].map(async ([reader, members]) => {
      const proc = `${reader}-${channel}`;
      this.history.record({ proc, type: 'invoke', f: 'drain', channel, seq: last, reader });
      const done = await waitCovered(members.map((m) => m.seen), last, this.config.drainTimeoutMs);
      this.history.record({ proc, type: done ? 'ok' : 'info', f: 'drain', channel, seq: last, ...(done ? {} : { error: 'did not read to the end' }) });
    });
    await Promise.all([...waits, this.freshReader(channel, last)]);
  }

  /** A new non-durable deliver-all reader of the whole channel. */
  private async freshReader(channel: string, last: number): Promise<void> {
    const proc = `drain-${channel}`;
    this.history.record({ proc, type: 'invoke', f: 'drain', channel, seq: last, reader: 'drain' });
    const connectBy = Date.now() + this.config.drainTimeoutMs;
    const seen = new Set<number>();
    const connected = await connectWithRetries(this.ctx, proc, proc, () => Date.now() > connectBy);
    let done = false;
    if (connected !== undefined) {
      const { session, node } = connected;
      this.drainSessions.push(session);
      const options = { maxInFlight: DRAIN_MAX_IN_FLIGHT, ackWaitMs: 30_000, manualAcks: true };
      try {
        await session.subscribe(channel, options, (d) => {
          this.history.record({ proc, type: 'ok', f: 'deliver', channel, value: d.value, seq: d.seq, reader: 'drain', readerKind: 'drain', redelivered: d.redelivered, node });
          seen.add(d.seq);
          d.ack();
        });
        done = await waitCovered([seen], last, this.config.drainTimeoutMs);
      } catch (error) {
        this.history.record({ proc, type: 'info', f: 'sub', channel, error: String(error) });
      }
    }
    this.history.record({ proc, type: done ? 'ok' : 'info', f: 'drain', channel, seq: last, value: String(seen.size), ...(done ? {} : { error: 'did not read to the end' }) });
  }

  /** Stops every client; safe to call more than once and after failures. */
  async stop(): Promise<void> {
    await Promise.all(this.publishers.map((p) => p.stop()));
    await Promise.all(this.subscribers.map((s) => s.stop()));
    for (const session of this.drainSessions.splice(0)) session.close();
  }
}
