// The server state as the /streaming/*z handlers see it (src/monitor/streaming/view.ts): read at
// request time, nothing on the publish or delivery paths. Clients, channels and subscriptions
// come from the replicated records, so a cluster's followers answer too; where this node serves
// (standalone, a cluster's leader) its runtime adds what only it knows: pending counts ahead of
// the records, stalled flags, positions sent.
import { randomBytes } from 'node:crypto';
import type {
  MonitorChannel,
  MonitorClient,
  MonitorSubscription,
  StreamingMonitorView,
  StreamingServerState,
} from '../monitor/streaming/view.js';
import { readFileDescriptors } from '../monitor/streaming/fds.js';
import type { StoreLimits } from '../store/limits.js';
import type { Store } from '../store/types.js';
import type { StanServerOptions } from './options.js';
import type { ServerContext } from './context.js';
import { effectiveLastSent, messageRange, type ChannelRecord, type ClientRecord, type StreamingState, type SubRecord } from '../fsm/records.js';
import { channelSubs, type SubscriptionState } from './state.js';

const TSTAN_VERSION = '0.1.0';

/** What a server (standalone or clustered) offers the view. */
export interface MonitorSource {
  readonly options: StanServerOptions;
  readonly store: Store;
  /** The serving runtime, while this node serves clients. */
  readonly context: ServerContext | undefined;
  /** The replicated records, once the server has started. */
  readonly records: StreamingState | undefined;
  monitorState(): StreamingServerState;
  monitorRole?(): string | undefined;
  monitorNodeId?(): string | undefined;
}

function fromRuntime(sub: SubscriptionState): MonitorSubscription {
  return {
    clientId: sub.clientId,
    inbox: sub.inbox,
    ackInbox: sub.ackInbox,
    durableName: sub.durableName,
    queueName: sub.qGroup,
    isDurable: sub.isDurable,
    isOffline: sub.isClosed,
    maxInFlight: sub.maxInFlight,
    ackWaitSecs: Math.round(sub.ackWaitMs / 1000),
    lastSent: sub.group ? sub.group.lastSent : sub.lastSent,
    pendingCount: sub.pending.size,
    isStalled: sub.stalled,
  };
}

function fromRecord(sub: SubRecord): MonitorSubscription {
  return {
    clientId: sub.clientId,
    inbox: sub.inbox,
    ackInbox: sub.ackInbox,
    durableName: sub.durableName,
    queueName: sub.qGroup,
    isDurable: sub.isDurable,
    isOffline: sub.isClosed,
    maxInFlight: sub.maxInFlight,
    ackWaitSecs: sub.ackWaitInSecs,
    lastSent: effectiveLastSent(sub),
    pendingCount: sub.pending.size,
    isStalled: sub.pending.size >= sub.maxInFlight,
  };
}

export class StanMonitorView implements StreamingMonitorView {
  readonly serverId = randomBytes(11).toString('hex').toUpperCase();
  readonly version = TSTAN_VERSION;
  readonly runtimeVersion = process.version;
  readonly startTimeMs = Date.now();

  constructor(private readonly server: MonitorSource) {}

  get clusterId(): string {
    return this.server.options.clusterId;
  }

  nowMs(): number {
    return Date.now();
  }

  state(): StreamingServerState {
    return this.server.monitorState();
  }

  role(): string | undefined {
    return this.server.monitorRole?.();
  }

  nodeId(): string | undefined {
    return this.server.monitorNodeId?.();
  }

  traffic(): { inMsgs: number; inBytes: number; outMsgs: number; outBytes: number } {
    const c = this.server.context?.counters;
    return { inMsgs: c?.msgsIn ?? 0, inBytes: c?.bytesIn ?? 0, outMsgs: c?.msgsOut ?? 0, outBytes: c?.bytesOut ?? 0 };
  }

  fileDescriptors(): { open: number; max: number } | undefined {
    return readFileDescriptors();
  }

  storeType(): string {
    return this.server.store.type;
  }

  storeLimits(): StoreLimits {
    return this.server.store.getLimits();
  }

  storeTotals(): { msgs: number; bytes: number } {
    return this.server.store.totals();
  }

  /** Each subscription record's runtime on a channel, where this node serves. */
  private runtimes(channel: ChannelRecord): Map<SubRecord, SubscriptionState> | undefined {
    const runtime = this.server.context?.channels.get(channel.name);
    if (runtime === undefined || runtime.record !== channel) return undefined;
    const byRecord = new Map<SubRecord, SubscriptionState>();
    for (const sub of channelSubs(runtime)) byRecord.set(sub.record, sub);
    return byRecord;
  }

  private clientOf(client: ClientRecord): MonitorClient {
    const view = this;
    return {
      id: client.id,
      hbInbox: client.hbInbox,
      *subscriptions() {
        const cache = new Map<ChannelRecord, Map<SubRecord, SubscriptionState> | undefined>();
        for (const sub of client.subs) {
          if (!cache.has(sub.channel)) cache.set(sub.channel, view.runtimes(sub.channel));
          const runtime = cache.get(sub.channel)?.get(sub);
          yield { channel: sub.channel.name, sub: runtime !== undefined ? fromRuntime(runtime) : fromRecord(sub) };
        }
      },
    };
  }

  private channelOf(channel: ChannelRecord): MonitorChannel {
    const state = channel.store.msgs.state();
    const { first, last } = messageRange(channel);
    const view = this;
    return {
      name: channel.name,
      msgs: state.msgs,
      bytes: state.bytes,
      firstSeq: first,
      lastSeq: last,
      *subscriptions() {
        const runtimes = view.runtimes(channel);
        for (const sub of channel.subs.values()) {
          const runtime = runtimes?.get(sub);
          yield runtime !== undefined ? fromRuntime(runtime) : fromRecord(sub);
        }
      },
    };
  }

  *clients(): Iterable<MonitorClient> {
    for (const client of this.server.records?.clients.values() ?? []) yield this.clientOf(client);
  }

  client(id: string): MonitorClient | undefined {
    const client = this.server.records?.clients.get(id);
    return client === undefined ? undefined : this.clientOf(client);
  }

  *channels(): Iterable<MonitorChannel> {
    for (const channel of this.server.records?.channels.values() ?? []) yield this.channelOf(channel);
  }

  channel(name: string): MonitorChannel | undefined {
    const channel = this.server.records?.channels.get(name);
    return channel === undefined ? undefined : this.channelOf(channel);
  }

  subscriptionCount(): number {
    let count = 0;
    for (const channel of this.server.records?.channels.values() ?? []) count += channel.subs.size;
    return count;
  }
}
