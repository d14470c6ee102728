// The NatsConnector for `-ns nats://...`: the STAN server runs unchanged on an external NATS
// deployment through the `nats` 2.x npm client. Subscriptions use callbacks (no async iterator,
// no Promise per message); only requests and flush, which are rare, go through Promises.
import { connect, createInbox, ErrorCode, type NatsConnection as NatsClient, type NatsError, type Subscription, type TlsOptions } from 'nats';
import type {
  ConnectionSettings,
  MsgCallback,
  NatsConnection,
  NatsConnector,
  NatsSubscription,
  ReplyCallback,
} from './connection.js';
import { RequestError } from './connection.js';

/** TLS towards the external server, as the `nats` client takes it (files read by the client). */
export interface ExternalNatsTls {
  readonly certFile?: string;
  readonly keyFile?: string;
  /** CA certificates to verify the server with; the system's when absent. */
  readonly caFile?: string;
  /** The name the server's certificate must carry (default: the URL's host). */
  readonly servername?: string;
  /** false: do not verify the server's certificate. */
  readonly rejectUnauthorized?: boolean;
}

export interface ExternalNatsOptions {
  /** One or more `nats://host:port` URLs (the `-ns` value, comma separated there). */
  readonly servers: readonly string[];
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
  /** TLS required of the connection (`-secure`, `-tls_client_*`); absent: as the server's INFO says. */
  readonly tls?: ExternalNatsTls;
}

const EMPTY = new Uint8Array(0);
/** nats-server's default, until the server's INFO says otherwise. */
const defaultMaxPayloadBytes = 1024 * 1024;

function requestErrorOf(error: unknown): RequestError {
  const code = (error as NatsError | undefined)?.code;
  if (code === ErrorCode.NoResponders) return RequestError.NoResponders;
  if (code === ErrorCode.Timeout) return RequestError.Timeout;
  if (code === ErrorCode.ConnectionClosed || code === ErrorCode.ConnectionDraining) return RequestError.Closed;
  return RequestError.Timeout;
}

class ExternalSubscription implements NatsSubscription {
  constructor(
    readonly subject: string,
    private readonly sub: Subscription,
  ) {}

  unsubscribe(): void {
    if (!this.sub.isClosed()) this.sub.unsubscribe();
  }

  autoUnsubscribe(max: number): void {
    if (!this.sub.isClosed()) this.sub.unsubscribe(max);
  }
}

class ExternalConnection implements NatsConnection {
  constructor(
    readonly name: string,
    private readonly client: NatsClient,
    private readonly inboxPrefix?: string,
  ) {}

  get isClosed(): boolean {
    return this.client.isClosed();
  }

  get maxPayloadBytes(): number {
    return this.client.info?.max_payload ?? defaultMaxPayloadBytes;
  }

  hasInterest(): undefined {
    return undefined;
  }

  publish(subject: string, payload: Uint8Array, reply?: string): void {
    if (this.client.isClosed()) return;
    try {
      if (reply === undefined) this.client.publish(subject, payload);
      else this.client.publish(subject, payload, { reply });
    } catch {
      // Like a NATS publish on the wire: fire and forget. A payload over max_payload or a bad
      // subject is dropped here instead of throwing into the caller's hot path.
    }
  }

  subscribe(subject: string, callback: MsgCallback, queue?: string): NatsSubscription {
    const sub = this.client.subscribe(subject, {
      ...(queue === undefined ? {} : { queue }),
      callback: (error, msg) => {
        if (error) return;
        callback(msg.subject, msg.reply ? msg.reply : undefined, msg.data);
      },
    });
    return new ExternalSubscription(subject, sub);
  }

  request(subject: string, payload: Uint8Array, timeoutMs: number, callback: ReplyCallback): void {
    if (this.client.isClosed()) {
      queueMicrotask(() => callback(RequestError.Closed, null));
      return;
    }
    this.client.request(subject, payload, { timeout: timeoutMs }).then(
      (msg) => callback(null, msg.data ?? EMPTY),
      (error: unknown) => callback(requestErrorOf(error), null),
    );
  }

  newInbox(): string {
    return createInbox(this.inboxPrefix);
  }

  flush(callback: (error: Error | null) => void): void {
    if (this.client.isClosed()) {
      queueMicrotask(() => callback(new Error('connection closed')));
      return;
    }
    this.client.flush().then(
      () => callback(null),
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
    );
  }

  async close(): Promise<void> {
    if (this.client.isClosed()) return;
    try {
      await this.client.drain();
    } catch {
      await this.client.close();
    }
  }
}

/** Connects named connections to an external NATS deployment, as the reference does with `-ns`. */
export class ExternalNatsConnector implements NatsConnector {
  constructor(private readonly options: ExternalNatsOptions) {}

  async connect(name: string, settings: ConnectionSettings = {}): Promise<NatsConnection> {
    const client = await connect({
      servers: [...this.options.servers],
      name,
      ...(settings.inboxPrefix === undefined ? {} : { inboxPrefix: settings.inboxPrefix }),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      ...(this.options.user === undefined ? {} : { user: this.options.user }),
      ...(this.options.password === undefined ? {} : { pass: this.options.password }),
      ...(this.options.token === undefined ? {} : { token: this.options.token }),
      // The client passes keys it does not know (servername, rejectUnauthorized) on to node:tls.
      ...(this.options.tls === undefined ? {} : { tls: { ...this.options.tls } as TlsOptions }),
    });
    return new ExternalConnection(name, client, settings.inboxPrefix);
  }
}
