// The published STAN client (node-nats-streaming 0.3.2) behind a small typed session that tells
// the three publish outcomes apart. The client calls a publish's handler with no error both for a
// PubAck and when the connection closes under it, so a handler counts as `ok` only when it runs
// inside the client's PubAck processing; an error there is the server's explicit rejection
// (`fail`); anything else (ack timeout, lost connection) is `info`. NATS-level reconnection is
// off: after a lost connection the workload makes a new one, and logs every attempt.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface RawMessage {
  getData(): string | Buffer;
  getSequence(): number;
  getTimestamp(): Date;
  isRedelivered(): boolean;
  ack(): void;
}
interface RawSubscription {
  on(event: 'message', handler: (msg: RawMessage) => void): void;
  on(event: 'ready' | 'unsubscribed' | 'closed', handler: () => void): void;
  on(event: 'error' | 'timeout', handler: (error: unknown) => void): void;
  close(): void;
}
interface RawOptions {
  setDeliverAllAvailable(): RawOptions;
  setDurableName(name: string): RawOptions;
  setManualAckMode(on: boolean): RawOptions;
  setMaxInFlight(n: number): RawOptions;
  setAckWait(ms: number): RawOptions;
}
interface RawConnection {
  on(event: string, handler: (...args: unknown[]) => void): void;
  publish(subject: string, data: string, callback: (error: unknown, guid: string) => void): string;
  subscriptionOptions(): RawOptions;
  subscribe(subject: string, queueGroup: string | undefined, options: RawOptions): RawSubscription;
  close(): void;
  processAck(): (msg: unknown) => void;
  nc?: { stream?: { destroy(): void } | null };
}
const stan = require('node-nats-streaming') as {
  connect(cluster: string, client: string, options: Record<string, unknown>): RawConnection;
};

export type PublishOutcome = 'ok' | 'fail' | 'info';

export interface Delivery {
  readonly seq: number;
  readonly value: string;
  readonly redelivered: boolean;
  /** The message's timestamp, as the server stamped it. */
  readonly timestampMs: number;
  ack(): void;
}

export interface SubscribeOptions {
  readonly durableName?: string;
  readonly queueGroup?: string;
  readonly maxInFlight: number;
  readonly ackWaitMs: number;
  readonly manualAcks: boolean;
}

export interface ConnectOptions {
  readonly url: string;
  readonly clusterId: string;
  readonly clientId: string;
  readonly pubAckTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /**
   * Every node's URL, reconnecting at the NATS level when the connection drops (the STAN session
   * lives on, as with a cluster whose nodes restart in turn). Default: `url` only, no reconnect.
   */
  readonly servers?: readonly string[];
}

/** One STAN connection; `onLost` fires once if it goes away without `close()`. */
export class StanSession {
  private closing = false;
  private lostHandler: ((reason: string) => void) | undefined;
  private lostReported = false;

  private constructor(
    private readonly raw: RawConnection,
    private readonly pubAck: { inside: boolean },
  ) {
    const lost = (reason: string) => {
      if (this.closing || this.lostReported) return;
      this.lostReported = true;
      this.lostHandler?.(reason);
    };
    raw.on('close', () => lost('connection closed'));
    raw.on('connection_lost', (error) => lost(`connection lost: ${String(error)}`));
    raw.on('error', (error) => lost(`connection error: ${String(error)}`));
  }

  static connect(options: ConnectOptions): Promise<StanSession> {
    const resilient = options.servers !== undefined;
    const raw = stan.connect(options.clusterId, options.clientId, {
      ...(resilient ? { servers: options.servers, reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 100 } : { url: options.url, reconnect: false, maxReconnectAttempts: 0 }),
      ackTimeout: options.pubAckTimeoutMs,
      connectTimeout: options.connectTimeoutMs,
      maxPubAcksInflight: 1_000_000,
    });
    const pubAck = { inside: false };
    const prototypeProcessAck = raw.processAck.bind(raw);
    raw.processAck = () => {
      const handle = prototypeProcessAck();
      return (msg: unknown) => {
        pubAck.inside = true;
        try {
          handle(msg);
        } finally {
          pubAck.inside = false;
        }
      };
    };
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        try {
          raw.close();
        } catch {
          // already closed
        }
        reject(error instanceof Error ? error : new Error(String(error)));
      };
      const timer = setTimeout(() => fail(new Error('connect timeout')), options.connectTimeoutMs * 2);
      raw.on('connect', () => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        resolve(new StanSession(raw, pubAck));
      });
      raw.on('error', (error) => {
        clearTimeout(timer);
        fail(error);
      });
      raw.on('close', () => {
        clearTimeout(timer);
        fail(new Error('closed before connecting'));
      });
    });
  }

  onLost(handler: (reason: string) => void): void {
    this.lostHandler = handler;
  }

  /** Publishes and reports the outcome once; returns the GUID. */
  publish(channel: string, value: string, done: (outcome: PublishOutcome, guid: string, error: string | undefined) => void): string {
    let reported = false;
    return this.raw.publish(channel, value, (error, guid) => {
      if (reported) return;
      reported = true;
      const hasError = error !== undefined && error !== null && error !== '';
      if (this.pubAck.inside) done(hasError ? 'fail' : 'ok', guid, hasError ? String(error) : undefined);
      else done('info', guid, hasError ? String(error) : 'no PubAck: connection closed');
    });
  }

  subscribe(channel: string, options: SubscribeOptions, onMessage: (delivery: Delivery) => void): Promise<{ close(): void }> {
    let opts = this.raw.subscriptionOptions().setDeliverAllAvailable().setMaxInFlight(options.maxInFlight).setAckWait(options.ackWaitMs).setManualAckMode(options.manualAcks);
    if (options.durableName !== undefined) opts = opts.setDurableName(options.durableName);
    const sub = this.raw.subscribe(channel, options.queueGroup, opts);
    sub.on('message', (msg) => {
      onMessage({ seq: msg.getSequence(), value: String(msg.getData()), redelivered: msg.isRedelivered(), timestampMs: msg.getTimestamp().getTime(), ack: () => msg.ack() });
    });
    return new Promise((resolve, reject) => {
      sub.on('ready', () => resolve({ close: () => sub.close() }));
      sub.on('error', (error) => reject(error instanceof Error ? error : new Error(String(error))));
      sub.on('timeout', (error) => reject(new Error(`subscribe timeout: ${String(error)}`)));
    });
  }

  /** A consumer crash: the socket goes away with no close protocol, as when a process dies. */
  crash(): void {
    this.raw.nc?.stream?.destroy();
  }

  close(): void {
    this.closing = true;
    try {
      this.raw.close();
    } catch {
      // already closed
    }
  }
}
