// State and collaborators shared by the handler modules of one serving STAN server.
import type { Logger } from 'pino';
import type { NatsConnection } from '../transport/nats/connection.js';
import type { Store } from '../store/types.js';
import type { StanFsm } from '../fsm/stan-fsm.js';
import type { StateWriter } from '../fsm/writer.js';
import type { StanCodec } from './protocol.js';
import type { StanServerOptions } from './options.js';
import type { Delivery } from './delivery.js';
import type { DeliveryProgress } from './progress.js';
import type { Scheduler } from './scheduler.js';
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
  /** The replicated records, for reading; they change only through `writer`. */
  readonly fsm: StanFsm;
  /** Every state change goes through here as ops. */
  readonly writer: StateWriter;
  readonly scheduler: Scheduler;
  readonly codec: StanCodec;
  readonly subjects: StanSubjects;
  /** Inbound protocol traffic and acks, one connection so that a client's order is kept. */
  readonly general: NatsConnection;
  /** Deliveries and PubAcks. */
  readonly send: NatsConnection;
  /** Heartbeats and probes. */
  readonly hb: NatsConnection;
  readonly delivery: Delivery;
  /** Sent and acked positions, replicated in batches. */
  readonly progress: DeliveryProgress;
  readonly clients: Map<string, ClientState>;
  readonly channels: Map<string, ChannelState>;
  /** Channels whose createChannel op is being applied. */
  readonly creatingChannels: Map<string, Promise<ChannelState>>;
  readonly subsByAckInbox: Map<string, SubscriptionState>;
  readonly counters: ServerCounters;
  /** Prefix of the ack inboxes this server hands out; one wildcard subscription covers them. */
  readonly ackPrefix: string;
  nextAckInbox: number;
  /** Store write latency observer, when metrics are attached. */
  observeStoreWrite: ((startNs: bigint, endNs: bigint) => void) | undefined;
  readonly startedMs: number;
  /** Called when the state can no longer be written: the server stops serving. */
  readonly onFatal: (error: Error) => void;
}

/** A guard around timer and callback work: a failure is logged with its context, never fatal. */
export function guarded(ctx: ServerContext, what: string, work: () => void): void {
  try {
    work();
  } catch (error) {
    ctx.logger.error({ err: error }, `${what} failed`);
  }
}
