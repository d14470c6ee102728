// State and collaborators shared by the handler modules of one STAN server instance.
import type { SubStoreFlusher } from './sub-flush.js';
import type { Logger } from 'pino';
import type { NatsConnection } from '../transport/nats/connection.js';
import type { Store } from '../store/types.js';
import type { StanCodec } from './protocol.js';
import type { StanServerOptions } from './options.js';
import type { Delivery } from './delivery.js';
import type { ChannelState, ClientState, SubscriptionState } from './state.js';
import type { StanSubjects } from './subjects.js';

export interface ServerCounters {
  msgsIn: number;
  bytesIn: number;
  msgsOut: number;
  bytesOut: number;
  redeliveries: number;
}

export interface ServerContext {
  readonly options: StanServerOptions;
  readonly logger: Logger;
  readonly store: Store;
  readonly codec: StanCodec;
  readonly subjects: StanSubjects;
  /** Inbound protocol traffic and acks, one connection so that a client's order is kept. */
  readonly general: NatsConnection;
  /** Deliveries and PubAcks. */
  readonly send: NatsConnection;
  /** Heartbeats and probes. */
  readonly hb: NatsConnection;
  readonly delivery: Delivery;
  /** Flushes changed subscription state once per event-loop turn. */
  readonly subsFlusher: SubStoreFlusher;
  readonly clients: Map<string, ClientState>;
  readonly clientsByConnId: Map<string, ClientState>;
  readonly channels: Map<string, ChannelState>;
  readonly subsByAckInbox: Map<string, SubscriptionState>;
  readonly counters: ServerCounters;
  /** Prefix of the ack inboxes this server hands out; one wildcard subscription covers them. */
  readonly ackPrefix: string;
  nextAckInbox: number;
  /** Store write latency observer, when metrics are attached. */
  observeStoreWrite: ((startNs: bigint, endNs: bigint) => void) | undefined;
  readonly startedMs: number;
}
