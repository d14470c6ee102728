// Starts a STAN server over the MEMORY store on either the embedded NATS server or Debian's
// nats-server (through the external connector, as `-ns` does), and connects node-nats-streaming
// clients to it. Everything started here is stopped by `stop()`.
import { createRequire } from 'node:module';
import { StanServer } from '../../src/server/server.js';
import type { StanServerOptions } from '../../src/server/options.js';
import { openMemoryStore } from '../../src/store/memory/memory-store.js';
import { defaultStoreLimits, type StoreLimits } from '../../src/store/limits.js';
import type { Store } from '../../src/store/types.js';
import { ExternalNatsConnector } from '../../src/transport/nats/external-connection.js';
import { EmbeddedNatsServer } from '../../src/transport/nats/server.js';
import type { NatsConnector } from '../../src/transport/nats/connection.js';
import type { SubscriptionState } from '../../src/server/state.js';
import { silentLogger } from '../../src/util/logger.js';
import { streamingHandlers } from '../../src/monitor/streaming/handlers.js';
import { startOracle, type OracleServer } from '../support/nats-server.js';
import { skipWithout } from '../support/test-deps.js';
import { describe } from 'vitest';

const require = createRequire(import.meta.url);
// node-nats-streaming is CommonJS without types: the few calls the tests make are typed here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const stan = require('node-nats-streaming') as StanModule;

export interface StanMessage {
  getSequence(): number;
  getSubject(): string;
  getData(): string | Buffer;
  getRawData(): Buffer;
  getTimestampRaw(): number;
  getTimestamp(): Date;
  isRedelivered(): boolean;
  getRedeliveryCount?(): number;
  ack(): void;
}

export interface StanSubscriptionOptions {
  setDurableName(name: string): StanSubscriptionOptions;
  setMaxInFlight(n: number): StanSubscriptionOptions;
  setAckWait(ms: number): StanSubscriptionOptions;
  setStartAt(position: number): StanSubscriptionOptions;
  setStartAtSequence(seq: number): StanSubscriptionOptions;
  setStartTime(date: Date): StanSubscriptionOptions;
  setStartAtTimeDelta(ms: number): StanSubscriptionOptions;
  setStartWithLastReceived(): StanSubscriptionOptions;
  setDeliverAllAvailable(): StanSubscriptionOptions;
  setManualAckMode(manual: boolean): StanSubscriptionOptions;
}

export interface StanSubscription {
  on(event: 'message', cb: (msg: StanMessage) => void): this;
  on(event: 'ready' | 'unsubscribed' | 'closed', cb: () => void): this;
  on(event: 'error', cb: (err: Error) => void): this;
  on(event: string, cb: (...args: never[]) => void): this;
  once(event: string, cb: (...args: never[]) => void): this;
  unsubscribe(): void;
  close(): void;
  isClosed(): boolean;
  ackInbox?: string;
  inbox?: string;
}

export interface StanClient {
  on(event: string, cb: (...args: never[]) => void): this;
  once(event: string, cb: (...args: never[]) => void): this;
  removeAllListeners(event?: string): this;
  publish(channel: string, data: string | Buffer, cb?: (err: Error | string | undefined, guid: string) => void): string;
  subscribe(channel: string, opts?: StanSubscriptionOptions): StanSubscription;
  subscribe(channel: string, queue: string, opts?: StanSubscriptionOptions): StanSubscription;
  subscriptionOptions(): StanSubscriptionOptions;
  close(): void;
  nc: { close(): void; closed?: boolean };
}

interface StanModule {
  connect(clusterId: string, clientId: string, opts?: Record<string, unknown>): StanClient;
  StartPosition: Record<string, number>;
}

export type NatsKind = 'embedded' | 'nats-server';

export interface HarnessOptions {
  nats?: NatsKind;
  server?: Partial<StanServerOptions>;
  limits?: StoreLimits;
  /** Serve /streaming/*z on the embedded server's monitoring port. */
  monitor?: boolean;
}

export interface Harness {
  readonly url: string;
  readonly port: number;
  readonly clusterId: string;
  readonly server: StanServer;
  readonly store: Store;
  readonly connector: NatsConnector;
  /** Monitoring port of the embedded server (0 when not monitoring). */
  readonly httpPort: number;
  /** Connects a client and waits for its `connect` event. */
  connect(clientId: string, opts?: Record<string, unknown>): Promise<StanClient>;
  /** Connects, expecting the connect to fail; resolves with the error text. */
  connectError(clientId: string, opts?: Record<string, unknown>): Promise<string>;
  stop(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const kind: NatsKind = options.nats ?? 'embedded';
  const clusterId = options.server?.clusterId ?? 'test-cluster';
  let oracle: OracleServer | undefined;
  let embedded: EmbeddedNatsServer | undefined;
  let connector: NatsConnector;
  let port: number;
  const logger = silentLogger();
  if (kind === 'nats-server') {
    oracle = await startOracle();
    port = oracle.port;
    connector = new ExternalNatsConnector({ servers: [oracle.url] });
  } else {
    embedded = new EmbeddedNatsServer({ host: '127.0.0.1', port: -1, httpPort: options.monitor ? -1 : 0 }, logger);
    await embedded.start();
    port = embedded.port;
    connector = embedded.connector();
  }
  const server = new StanServer(
    connector,
    (settings) => openMemoryStore({ limits: options.limits ?? defaultStoreLimits(), ...settings, logger }),
    // Tests stop servers with unacknowledged messages on purpose: no grace for their acks.
    { drainAckGraceMs: 0, ...options.server, clusterId },
    logger,
  );
  await server.start();
  const store = server.store;
  if (options.monitor && embedded) {
    for (const [path, handler] of streamingHandlers(server.monitorView())) embedded.monitor.route(path, handler);
  }
  const url = `nats://127.0.0.1:${port}`;
  const clients = new Set<StanClient>();

  function open(clientId: string, opts: Record<string, unknown>): StanClient {
    const client = stan.connect(clusterId, clientId, { url, ...opts });
    clients.add(client);
    return client;
  }

  return {
    url,
    port,
    clusterId,
    server,
    store,
    connector,
    httpPort: options.monitor && embedded ? embedded.httpPort : 0,
    connect(clientId, opts = {}) {
      const client = open(clientId, opts);
      return new Promise((resolve, reject) => {
        client.once('connect', () => resolve(client));
        client.once('error', (err: Error) => reject(err));
      });
    },
    connectError(clientId, opts = {}) {
      const client = open(clientId, opts);
      return new Promise((resolve, reject) => {
        client.once('connect', () => reject(new Error('connect unexpectedly succeeded')));
        client.once('error', (err: Error | string) => resolve(typeof err === 'string' ? err : err.message));
      });
    },
    async stop() {
      for (const client of clients) {
        try {
          client.nc.close();
        } catch {
          // already closed
        }
      }
      await server.shutdown();
      if (embedded) await embedded.shutdown();
      if (oracle) await oracle.stop();
    },
  };
}

/** Resolves when `client` has closed (close() is asynchronous: the CloseRequest must be answered). */
export function closeClient(client: StanClient): Promise<void> {
  return new Promise((resolve) => {
    client.once('close', () => resolve());
    client.close();
  });
}

export function publish(client: StanClient, channel: string, data: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    // node-nats-streaming reports a PubAck error as the bare string.
    client.publish(channel, data, (err, guid) => (err ? reject(typeof err === 'string' ? new Error(err) : err) : resolve(guid)));
  });
}

export async function publishMany(client: StanClient, channel: string, count: number, prefix = 'm'): Promise<void> {
  const acks: Array<Promise<string>> = [];
  for (let i = 1; i <= count; i++) acks.push(publish(client, channel, `${prefix}${i}`));
  await Promise.all(acks);
}

/** Subscribes and resolves once the server has answered (the `ready` event). */
export function subscribe(
  client: StanClient,
  channel: string,
  opts: StanSubscriptionOptions,
  queue?: string,
  onMessage?: (msg: StanMessage) => void,
): Promise<StanSubscription> {
  const sub = queue === undefined ? client.subscribe(channel, opts) : client.subscribe(channel, queue, opts);
  // The backlog may arrive in the same read as the server's answer: listen before `ready`.
  if (onMessage) sub.on('message', onMessage);
  return new Promise((resolve, reject) => {
    sub.once('ready', () => resolve(sub));
    sub.once('error', (err: Error) => reject(err));
  });
}

/** Collects messages until `count` arrived (resolves) or `timeoutMs` passed (rejects). */
export function collect(sub: StanSubscription, count: number, timeoutMs = 5000): Promise<StanMessage[]> {
  const got: StanMessage[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`got ${got.length} of ${count} messages`)), timeoutMs);
    sub.on('message', (msg: StanMessage) => {
      got.push(msg);
      if (got.length === count) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

export function dataOf(msgs: StanMessage[]): string[] {
  return msgs.map((m) => String(m.getData()));
}

/** Resolves once `predicate` holds, polling (only where no event exists), or rejects after timeoutMs. */
export async function waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The server's state of every subscription (plain, durable, queue member) on a channel. */
export function serverSubs(h: Harness, channel: string): SubscriptionState[] {
  const state = h.server.context?.channels.get(channel);
  if (state === undefined) return [];
  const subs = [...state.subs];
  for (const group of state.queueGroups.values()) subs.push(...group.members);
  return subs;
}

/** Suites that run on both: the embedded NATS server, and Debian's nats-server as with `-ns`. */
export const NATS_KINDS: readonly NatsKind[] = ['embedded', 'nats-server'];

/**
 * `describe` once per NATS kind (`%s` in the title becomes the kind); the nats-server kind is
 * skipped where nats-server is missing (test/support/test-deps.ts decides, and says so once).
 */
export function describeEachNatsKind(title: string, body: (nats: NatsKind) => void): void {
  for (const kind of NATS_KINDS) {
    describe.skipIf(kind === 'nats-server' && skipWithout('nats-server'))(title.replace('%s', kind), () => body(kind));
  }
}
