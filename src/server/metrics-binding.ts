// Feeds the server's state and counters to the Prometheus metrics of src/monitor/metrics.ts:
// gauges read the state at scrape time; counters get the deltas of the server's plain counters
// once per publish turn and once a second, never once per message.
import type { StreamingMetrics } from '../monitor/metrics.js';
import type { ServerContext } from './context.js';
import type { ChannelState } from './state.js';

const PUSH_INTERVAL_MS = 1000;

function* channelSubs(channel: ChannelState): Iterable<{ pending: { readonly size: number } }> {
  yield* channel.subs;
  for (const group of channel.queueGroups.values()) {
    yield* group.members;
    if (group.shadow !== undefined) yield group.shadow;
  }
}

export class MetricsBinding {
  private readonly pushed = { msgsIn: 0, bytesIn: 0, msgsOut: 0, bytesOut: 0, redeliveries: 0 };
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly ctx: ServerContext,
    private readonly metrics: StreamingMetrics,
  ) {
    metrics.setGaugeSource({
      clients: () => ctx.clients.size,
      channels: function* () {
        for (const channel of ctx.channels.values()) {
          const state = channel.store.msgs.state();
          yield { name: channel.name, msgs: state.msgs, bytes: state.bytes };
        }
      },
      subscriptions: () => {
        let count = 0;
        for (const channel of ctx.channels.values()) for (const _ of channelSubs(channel)) count++;
        return count;
      },
      pendingAcks: () => {
        let count = 0;
        for (const channel of ctx.channels.values()) for (const sub of channelSubs(channel)) count += sub.pending.size;
        return count;
      },
      beforeScrape: () => this.push(),
    });
    this.timer = setInterval(() => this.push(), PUSH_INTERVAL_MS);
    this.timer.unref();
  }

  /** Hands the counters' growth since the last push to the Prometheus counters. */
  push(): void {
    const c = this.ctx.counters;
    const p = this.pushed;
    if (c.msgsIn !== p.msgsIn) this.metrics.recordPublished(c.msgsIn - p.msgsIn, c.bytesIn - p.bytesIn);
    if (c.msgsOut !== p.msgsOut) this.metrics.recordDelivered(c.msgsOut - p.msgsOut, c.bytesOut - p.bytesOut);
    if (c.redeliveries !== p.redeliveries) this.metrics.recordRedelivered(c.redeliveries - p.redeliveries);
    p.msgsIn = c.msgsIn;
    p.bytesIn = c.bytesIn;
    p.msgsOut = c.msgsOut;
    p.bytesOut = c.bytesOut;
    p.redeliveries = c.redeliveries;
  }

  observeStoreWrite(startNs: bigint, endNs: bigint): void {
    this.metrics.observeStoreWriteNs(startNs, endNs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.push();
  }
}
