// The workload's clients: a publisher at a bounded rate with a bounded number of unacknowledged
// publishes, and a subscriber with manual acks (a durable, or a durable queue-group member). Both
// record every operation in the history and, when their connection is lost, make a new one
// (publishers under a new client ID, subscribers under the same one so the durable resumes),
// logging every attempt as a `connect` operation. Publishes are never retried (etcd#14890).
import type { HistoryRecorder, ReaderKind } from './history.js';
import type { Random } from './random.js';
import { StanSession, type Delivery, type SubscribeOptions } from './stan-client.js';

export interface ClientSettings {
  readonly clusterId: string;
  readonly pubAckTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly reconnectDelayMs: number;
}

/** A node a client can connect to. */
export interface Endpoint {
  readonly name: string;
  readonly url: string;
}

/**
 * Where clients connect: a standalone node always hands out itself; a cluster gives each client a
 * home node and, on later attempts (after a refused or lost connection), the next node in turn.
 */
export interface WorkloadTarget {
  endpoint(proc: string, attempt: number): Endpoint;
}

/** A session and the node it is connected to. */
export interface ConnectedSession {
  readonly session: StanSession;
  readonly node: string;
}

export interface ClientContext {
  readonly settings: ClientSettings;
  readonly target: WorkloadTarget;
  readonly history: HistoryRecorder;
  /** The random stream of the client named `label`. */
  randomFor(label: string): Random;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Connects until it succeeds or `stopped()` says to give up; every attempt is in the history.
 * `attempts` counts the client's attempts over its life, so each one asks the target for the
 * next endpoint.
 */
export async function connectWithRetries(ctx: ClientContext, proc: string, clientId: string, stopped: () => boolean, attempts = { count: 0 }): Promise<ConnectedSession | undefined> {
  const s = ctx.settings;
  while (!stopped()) {
    const endpoint = ctx.target.endpoint(proc, attempts.count++);
    const node = endpoint.name;
    ctx.history.record({ proc, type: 'invoke', f: 'connect', value: clientId, node });
    try {
      const session = await StanSession.connect({ url: endpoint.url, clusterId: s.clusterId, clientId, pubAckTimeoutMs: s.pubAckTimeoutMs, connectTimeoutMs: s.connectTimeoutMs });
      ctx.history.record({ proc, type: 'ok', f: 'connect', value: clientId, node });
      if (stopped()) {
        session.close();
        return undefined;
      }
      return { session, node };
    } catch (error) {
      ctx.history.record({ proc, type: 'info', f: 'connect', value: clientId, node, error: String(error) });
      await delay(s.reconnectDelayMs);
    }
  }
  return undefined;
}

export class Publisher {
  readonly proc: string;
  private n = 0;
  private generation = 0;
  private outstanding = 0;
  private session: StanSession | undefined;
  private node = '';
  private readonly attempts = { count: 0 };
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly random: Random;

  constructor(
    private readonly ctx: ClientContext,
    readonly index: number,
    private readonly channels: readonly string[],
    private readonly rateHz: number,
    private readonly outstandingMax: number,
  ) {
    this.proc = `pub-${index}`;
    this.random = ctx.randomFor(this.proc);
  }

  async start(): Promise<void> {
    await this.connect();
    this.timer = setInterval(() => this.tick(), 1000 / this.rateHz);
  }

  private async connect(): Promise<void> {
    const connected = await connectWithRetries(this.ctx, this.proc, `${this.proc}-${this.generation++}`, () => this.stopped, this.attempts);
    if (connected === undefined) return;
    const { session, node } = connected;
    session.onLost((reason) => {
      this.ctx.history.record({ proc: this.proc, type: 'info', f: 'connect', node, error: reason });
      this.session = undefined;
      if (!this.stopped) void this.connect();
    });
    this.session = session;
    this.node = node;
  }

  private tick(): void {
    const session = this.session;
    if (session === undefined || this.outstanding >= this.outstandingMax) return;
    const channel = this.channels[this.random.int(this.channels.length)] as string;
    const value = `p${this.index}-${++this.n}`;
    const node = this.node;
    this.ctx.history.record({ proc: this.proc, type: 'invoke', f: 'publish', channel, value, node });
    this.outstanding++;
    session.publish(channel, value, (outcome, guid, error) => {
      this.outstanding--;
      this.ctx.history.record({ proc: this.proc, type: outcome, f: 'publish', channel, value, guid, node, ...(error === undefined ? {} : { error }) });
    });
  }

  /** Stops publishing and waits (bounded by the ack timeout) for every outcome. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    const deadline = Date.now() + this.ctx.settings.pubAckTimeoutMs + 2_000;
    while (this.outstanding > 0 && Date.now() < deadline) await delay(20);
    this.session?.close();
    this.session = undefined;
  }
}

export interface SubscriberSpec {
  readonly proc: string;
  readonly clientId: string;
  readonly channel: string;
  readonly reader: string;
  readonly readerKind: ReaderKind;
  readonly options: SubscribeOptions;
}

export class Subscriber {
  readonly seen = new Set<number>();
  /** While set, deliveries are kept unacknowledged (a batch in progress, for consumer crashes). */
  holdAcks = false;
  readonly held: Delivery[] = [];
  ackDropProbability = 0;
  private session: StanSession | undefined;
  private node = '';
  private readonly attempts = { count: 0 };
  private stopped = false;
  private subscription: { close(): void } | undefined;
  private readonly random: Random;

  constructor(
    private readonly ctx: ClientContext,
    readonly spec: SubscriberSpec,
  ) {
    this.random = ctx.randomFor(spec.proc);
  }

  get channel(): string {
    return this.spec.channel;
  }

  get connected(): boolean {
    return this.subscription !== undefined;
  }

  /** Resolves once subscribed, or once stopped. */
  async start(): Promise<void> {
    const { proc, channel, clientId } = this.spec;
    while (!this.stopped) {
      const connected = await connectWithRetries(this.ctx, proc, clientId, () => this.stopped, this.attempts);
      if (connected === undefined) return;
      const { session, node } = connected;
      this.node = node;
      let lost = false;
      session.onLost((reason) => {
        lost = true;
        this.ctx.history.record({ proc, type: 'info', f: 'connect', node, error: reason });
        this.session = undefined;
        this.subscription = undefined;
        if (!this.stopped) void this.start();
      });
      this.session = session;
      this.ctx.history.record({ proc, type: 'invoke', f: 'sub', channel, value: this.spec.reader });
      try {
        const timeout = delay(this.ctx.settings.connectTimeoutMs * 2).then(() => {
          throw new Error('subscribe timeout');
        });
        this.subscription = await Promise.race([session.subscribe(channel, this.spec.options, (d) => this.onDelivery(d)), timeout]);
        this.ctx.history.record({ proc, type: 'ok', f: 'sub', channel, value: this.spec.reader });
        return;
      } catch (error) {
        this.ctx.history.record({ proc, type: 'info', f: 'sub', channel, value: this.spec.reader, error: String(error) });
        // A lost connection starts its own new attempt; otherwise this loop makes it.
        if (lost) return;
        session.close();
        this.session = undefined;
        await delay(this.ctx.settings.reconnectDelayMs);
      }
    }
  }

  private onDelivery(delivery: Delivery): void {
    const { proc, channel, reader, readerKind } = this.spec;
    const node = this.node;
    this.ctx.history.record({ proc, type: 'ok', f: 'deliver', channel, value: delivery.value, seq: delivery.seq, reader, readerKind, redelivered: delivery.redelivered, timestampMs: delivery.timestampMs, node });
    this.seen.add(delivery.seq);
    if (this.holdAcks) {
      this.held.push(delivery);
      return;
    }
    if (this.ackDropProbability > 0 && this.random.next() < this.ackDropProbability) {
      this.ctx.history.record({ proc, type: 'fail', f: 'ack', channel, seq: delivery.seq, node, error: 'dropped by the harness' });
      return;
    }
    delivery.ack();
    this.ctx.history.record({ proc, type: 'info', f: 'ack', channel, seq: delivery.seq, node });
  }

  /** Drops the connection without the close protocol; the lost-connection path reconnects. */
  crash(): void {
    this.held.length = 0;
    this.holdAcks = false;
    this.session?.crash();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.session?.close();
    this.session = undefined;
    this.subscription = undefined;
  }
}
