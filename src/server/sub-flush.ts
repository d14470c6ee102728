// Subscription state (sent, acked, closed) is written to the store as it changes but is durable
// only once the store flushes. Like the reference's I/O loop, the server flushes every sub store
// that changed once per event-loop turn, so a crash loses at most that turn's positions (which
// only means redelivery), and never one flush per message.
import type { Logger } from '../util/logger.js';
import type { SubStore } from '../store/types.js';

export class SubStoreFlusher {
  private readonly dirty = new Set<SubStore>();
  private scheduled = false;
  private lastMarked: SubStore | undefined;

  constructor(private readonly logger: Logger) {}

  markDirty(store: SubStore): void {
    // One store is usually marked once per delivered message and ack: skip the Set for repeats.
    if (this.scheduled && this.lastMarked === store) return;
    this.lastMarked = store;
    this.dirty.add(store);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => void this.flushAll());
  }

  /** Flushes every changed sub store; resolves when all are durable. */
  async flushAll(): Promise<void> {
    this.scheduled = false;
    this.lastMarked = undefined;
    const stores = [...this.dirty];
    this.dirty.clear();
    const results = await Promise.allSettled(stores.map((store) => store.flush()));
    for (const result of results) {
      if (result.status === 'rejected') this.logger.error({ err: result.reason }, 'flushing subscription state failed');
    }
  }
}
