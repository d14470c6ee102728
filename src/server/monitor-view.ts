// The server state as the /streaming/*z handlers see it (src/monitor/streaming/view.ts): read at
// request time, nothing on the publish or delivery paths.
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
import type { StanServer } from './server.js';
import type { ChannelState, ClientState, SubscriptionState } from './state.js';

const TSTAN_VERSION = '0.1.0';

function subscriptionOf(sub: SubscriptionState): MonitorSubscription {
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

function* channelSubs(channel: ChannelState): Iterable<SubscriptionState> {
  yield* channel.subs;
  for (const group of channel.queueGroups.values()) {
    yield* group.members;
    if (group.shadow !== undefined) yield group.shadow;
  }
}

function clientOf(client: ClientState): MonitorClient {
  return {
    id: client.id,
    hbInbox: client.hbInbox,
    *subscriptions() {
      for (const sub of client.subs) yield { channel: sub.channel.name, sub: subscriptionOf(sub) };
    },
  };
}

function channelOf(channel: ChannelState): MonitorChannel {
  const msgs = channel.store.msgs;
  const state = msgs.state();
  return {
    name: channel.name,
    msgs: state.msgs,
    bytes: state.bytes,
    firstSeq: msgs.firstSequence(),
    lastSeq: msgs.lastSequence(),
    *subscriptions() {
      for (const sub of channelSubs(channel)) yield subscriptionOf(sub);
    },
  };
}

export class StanMonitorView implements StreamingMonitorView {
  readonly serverId = randomBytes(11).toString('hex').toUpperCase();
  readonly version = TSTAN_VERSION;
  readonly runtimeVersion = process.version;
  readonly startTimeMs = Date.now();

  constructor(private readonly server: StanServer) {}

  get clusterId(): string {
    return this.server.options.clusterId;
  }

  nowMs(): number {
    return Date.now();
  }

  state(): StreamingServerState {
    return this.server.isRunning ? 'STANDALONE' : 'SHUTDOWN';
  }

  role(): string | undefined {
    return undefined;
  }

  nodeId(): string | undefined {
    return undefined;
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

  *clients(): Iterable<MonitorClient> {
    for (const client of this.server.context?.clients.values() ?? []) yield clientOf(client);
  }

  client(id: string): MonitorClient | undefined {
    const client = this.server.context?.clients.get(id);
    return client === undefined ? undefined : clientOf(client);
  }

  *channels(): Iterable<MonitorChannel> {
    for (const channel of this.server.context?.channels.values() ?? []) yield channelOf(channel);
  }

  channel(name: string): MonitorChannel | undefined {
    const channel = this.server.context?.channels.get(name);
    return channel === undefined ? undefined : channelOf(channel);
  }

  subscriptionCount(): number {
    let count = 0;
    for (const channel of this.server.context?.channels.values() ?? []) for (const _ of channelSubs(channel)) count++;
    return count;
  }
}
