// The workload of the clustering tests, on node-nats-streaming: a publisher that keeps a window of
// async publishes in flight and publishes again whatever was not acknowledged (a failure or a
// timeout: its fate may be unknown), until a target number of distinct payloads is acknowledged;
// and a durable subscriber with manual acks that records every delivery. The checks: every
// acknowledged payload was delivered, sequences are gapless, first deliveries come in order.
import { StanSession, type Delivery } from '../../jepsen-like/stan-client.js';

export interface PublisherStats {
  acked: number;
  retried: number;
  /** Longest time between two consecutive acks (ms): the unavailability a client saw. */
  longestAckGapMs: number;
}

export class Publisher {
  readonly acked = new Set<string>();
  /** Payloads whose first publish failed or timed out: published again later, out of order by design. */
  readonly republished = new Set<string>();
  readonly stats: PublisherStats = { acked: 0, retried: 0, longestAckGapMs: 0 };
  private next = 0;
  private inFlight = 0;
  private lastAckMs = Date.now();
  private stopped = false;
  private readonly retry: string[] = [];
  private waiters: Array<() => void> = [];

  constructor(
    private readonly session: StanSession,
    private readonly channel: string,
    private readonly target: number,
    private readonly window: number,
    private readonly prefix = 'm-',
  ) {}

  /** Resolves once `target` distinct payloads are acknowledged. */
  run(): Promise<void> {
    this.pump();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Resolves once at least `count` payloads are acknowledged. */
  reached(count: number): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.acked.size >= count) resolve();
        else setTimeout(check, 20);
      };
      check();
    });
  }

  stop(): void {
    this.stopped = true;
  }

  private pump(): void {
    while (!this.stopped && this.inFlight < this.window && (this.retry.length > 0 || this.next < this.target)) {
      const value = this.retry.shift() ?? `${this.prefix}${++this.next}`;
      this.inFlight++;
      this.session.publish(this.channel, value, (outcome) => {
        this.inFlight--;
        if (outcome === 'ok') {
          const now = Date.now();
          this.stats.longestAckGapMs = Math.max(this.stats.longestAckGapMs, now - this.lastAckMs);
          this.lastAckMs = now;
          this.acked.add(value);
          this.stats.acked = this.acked.size;
        } else {
          this.stats.retried++;
          this.republished.add(value);
          this.retry.push(value);
        }
        if (this.acked.size >= this.target) {
          for (const resolve of this.waiters.splice(0)) resolve();
          return;
        }
        this.pump();
      });
    }
  }
}

export class Subscriber {
  /** Every delivery, in arrival order. */
  readonly deliveries: Array<{ seq: number; value: string; redelivered: boolean }> = [];
  private readonly firstBySeq = new Map<number, string>();

  static async start(session: StanSession, channel: string, durableName: string, maxInFlight = 512): Promise<Subscriber> {
    const subscriber = new Subscriber();
    await session.subscribe(channel, { durableName, maxInFlight, ackWaitMs: 5_000, manualAcks: true }, (delivery: Delivery) => {
      subscriber.record(delivery);
      delivery.ack();
    });
    return subscriber;
  }

  private record(delivery: Delivery): void {
    this.deliveries.push({ seq: delivery.seq, value: delivery.value, redelivered: delivery.redelivered });
    if (!this.firstBySeq.has(delivery.seq)) this.firstBySeq.set(delivery.seq, delivery.value);
  }

  /** Distinct payloads delivered. */
  values(): Set<string> {
    return new Set(this.firstBySeq.values());
  }

  /** Resolves once every payload of `expected` has been delivered (polls; no event to wait on). */
  async received(expected: ReadonlySet<string>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const values = this.values();
      const missing = [...expected].filter((v) => !values.has(v));
      if (missing.length === 0) return;
      if (Date.now() > deadline) throw new Error(`${missing.length} acknowledged payloads never delivered, e.g. ${missing.slice(0, 5).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Resolves once every sequence 1..last has been delivered (polls; no event to wait on). */
  async receivedThrough(last: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let missing = 0;
      for (let seq = 1; seq <= last; seq++) if (!this.firstBySeq.has(seq)) missing++;
      if (missing === 0) return;
      if (Date.now() > deadline) throw new Error(`${missing} of sequences 1..${last} never delivered`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Payloads `<prefix><n>` published once each, in increasing n, by one client: stored in that
   * order (their sequences increase with n) unless the server reordered the client's publishes.
   * `republished` payloads are left out: their later publish is a new one.
   */
  publishOrderViolations(prefix: string, republished: ReadonlySet<string>): number {
    let violations = 0;
    let highest = 0;
    for (const [, value] of [...this.firstBySeq].sort(([a], [b]) => a - b)) {
      if (!value.startsWith(prefix) || republished.has(value)) continue;
      const n = Number(value.slice(prefix.length));
      if (n < highest) violations++;
      highest = Math.max(highest, n);
    }
    return violations;
  }

  /**
   * Checks the delivery history. A delivery is acknowledged as soon as it arrives, so a sequence
   * delivered a second time was redelivered after its ack (`redeliveriesOfAcked`); a message lost
   * on its way (the subscriber's connection moving to another node) comes back flagged
   * redelivered, so first deliveries are held to sequence order only when not flagged.
   */
  check(): { redeliveries: number; redeliveriesOfAcked: number; distinct: number; payloadConflicts: number; outOfOrder: number; gaps: number } {
    let payloadConflicts = 0;
    for (const d of this.deliveries) if (this.firstBySeq.get(d.seq) !== d.value) payloadConflicts++;
    const seqs = [...this.firstBySeq.keys()].sort((a, b) => a - b);
    let gaps = 0;
    for (let i = 0; i < seqs.length; i++) if (seqs[i] !== i + 1) gaps++;
    let outOfOrder = 0;
    let highest = 0;
    let redeliveriesOfAcked = 0;
    const seen = new Set<number>();
    for (const d of this.deliveries) {
      if (seen.has(d.seq)) {
        redeliveriesOfAcked++;
        continue;
      }
      seen.add(d.seq);
      if (d.redelivered) continue;
      if (d.seq < highest) outOfOrder++;
      highest = Math.max(highest, d.seq);
    }
    return { redeliveries: this.deliveries.length - seqs.length, redeliveriesOfAcked, distinct: seqs.length, payloadConflicts, outOfOrder, gaps };
  }
}

export function connect(url: string, clientId: string): Promise<StanSession> {
  return StanSession.connect({ url, clusterId: 'test-cluster', clientId, pubAckTimeoutMs: 2_000, connectTimeoutMs: 5_000 });
}

/** A session that reconnects to any of `urls` when its node goes away. */
export function connectResilient(urls: readonly string[], clientId: string): Promise<StanSession> {
  return StanSession.connect({ url: urls[0]!, servers: urls, clusterId: 'test-cluster', clientId, pubAckTimeoutMs: 2_000, connectTimeoutMs: 5_000 });
}

/** Connects, publishes `count` distinct payloads until each is acknowledged, disconnects. */
export async function publishAll(url: string, clientId: string, count: number, prefix: string): Promise<Set<string>> {
  const session = await connect(url, clientId);
  try {
    const publisher = new Publisher(session, 'orders', count, 256, prefix);
    await publisher.run();
    return publisher.acked;
  } finally {
    session.close();
  }
}
