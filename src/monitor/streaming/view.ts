// What the STAN server exposes to the /streaming/*z monitoring handlers: a narrow, read-only view,
// so the handlers stay pure functions of it and are tested with a fake. Everything is read at the
// moment of a request; nothing here is on the publish or delivery path.

import type { StoreLimits } from '../../store/limits.js';

/** The reference server's states (serverz `state`). tstan standalone is STANDALONE. */
export type StreamingServerState = 'STANDALONE' | 'FT_ACTIVE' | 'FT_STANDBY' | 'FAILED' | 'SHUTDOWN' | 'CLUSTERED';

export interface MonitorSubscription {
  /** For an offline durable: the client ID it was saved with. */
  readonly clientId: string;
  readonly inbox: string;
  readonly ackInbox: string;
  /** Empty when not durable (and for durable queue members, whose name is in the queue name). */
  readonly durableName: string;
  /** Empty when not a queue member; `durable:group` for a durable queue group. */
  readonly queueName: string;
  readonly isDurable: boolean;
  /** No client attached: an offline durable, or the shadow of a durable queue group. */
  readonly isOffline: boolean;
  readonly maxInFlight: number;
  readonly ackWaitSecs: number;
  readonly lastSent: number;
  readonly pendingCount: number;
  readonly isStalled: boolean;
}

export interface MonitorClient {
  readonly id: string;
  readonly hbInbox: string;
  /** The client's subscriptions with the channel of each. */
  subscriptions(): Iterable<{ readonly channel: string; readonly sub: MonitorSubscription }>;
}

export interface MonitorChannel {
  readonly name: string;
  readonly msgs: number;
  readonly bytes: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /**
   * Every subscription of the channel: plain, durables online and offline, queue members, and
   * the shadow of a durable queue group without members.
   */
  subscriptions(): Iterable<MonitorSubscription>;
}

export interface MonitorTraffic {
  readonly inMsgs: number;
  readonly inBytes: number;
  readonly outMsgs: number;
  readonly outBytes: number;
}

export interface StreamingMonitorView {
  readonly clusterId: string;
  readonly serverId: string;
  /** tstan's version (serverz `version`). */
  readonly version: string;
  /** Runtime version shown where the reference shows its Go version (serverz `go`). */
  readonly runtimeVersion: string;
  readonly startTimeMs: number;
  nowMs(): number;
  state(): StreamingServerState;
  /** Raft role in clustered mode (Leader, Follower, Candidate, Shutdown); omitted when undefined. */
  role(): string | undefined;
  /** Clustered node ID; omitted when undefined. */
  nodeId(): string | undefined;
  traffic(): MonitorTraffic;
  /** Open and maximum file descriptors (Linux procfs); omitted when undefined. */
  fileDescriptors(): { open: number; max: number } | undefined;

  storeType(): string;
  /** The effective limits (per-channel inheritance applied). */
  storeLimits(): StoreLimits;
  /** Messages and bytes over every channel. */
  storeTotals(): { msgs: number; bytes: number };

  clients(): Iterable<MonitorClient>;
  client(id: string): MonitorClient | undefined;
  channels(): Iterable<MonitorChannel>;
  channel(name: string): MonitorChannel | undefined;
  /** Every subscription, offline durables and durable queue shadows included. */
  subscriptionCount(): number;
}
