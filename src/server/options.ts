// Options of the STAN server with the reference server's defaults (docs/protocol.md §3.1). The config
// layer maps the streaming flags (-cid, -hbi, -hbt, -hbf, --replace_durable ...) onto these.

export interface StanServerOptions {
  /** `-cid`: the cluster ID that every subject is built from. */
  readonly clusterId: string;
  /** Prefix of the discover subject (`discover_prefix`). */
  readonly discoverPrefix: string;
  /** `-hbi`: interval between heartbeats sent to each client. */
  readonly hbIntervalMs: number;
  /** `-hbt`: how long a heartbeat waits for the client's reply. */
  readonly hbTimeoutMs: number;
  /** `-hbf`: failed heartbeats after which the client is closed. */
  readonly hbFailCount: number;
  /** `--replace_durable`: a new durable with the key of an online one replaces it. */
  readonly replaceDurable: boolean;
  /** `io_batch_size`: publishes stored per channel in one write at most. */
  readonly ioBatchSize: number;
  /** Publishes waiting for the store, beyond which new ones are answered with an error. */
  readonly publishQueueMax: number;
  /** How long the old client of a reused client ID has to answer the probe (not configurable in NSS). */
  readonly duplicateClientProbeMs: number;
  /** How long the start-up probe for another server with this cluster ID waits. */
  readonly serverProbeMs: number;
  /** Skip the start-up probe (tests that start two servers on purpose). */
  readonly skipServerProbe: boolean;
  /** Messages queued for a subscription's initial delivery per event-loop turn. */
  readonly deliveryBatchMax: number;
  /**
   * A graceful stop (or leadership handover) sends nothing new and waits at most this long for
   * subscribers to acknowledge what they have, so that the next run or leader redelivers none of it.
   */
  readonly drainAckGraceMs: number;
}

export const defaultStanServerOptions: StanServerOptions = Object.freeze({
  clusterId: 'test-cluster',
  discoverPrefix: '_STAN.discover',
  hbIntervalMs: 30_000,
  hbTimeoutMs: 10_000,
  hbFailCount: 10,
  replaceDurable: false,
  ioBatchSize: 1024,
  publishQueueMax: 65_536,
  duplicateClientProbeMs: 500,
  serverProbeMs: 250,
  skipServerProbe: false,
  deliveryBatchMax: 1024,
  drainAckGraceMs: 1000,
});

export function stanServerOptions(overrides: Partial<StanServerOptions> = {}): StanServerOptions {
  return Object.freeze({ ...defaultStanServerOptions, ...overrides });
}
