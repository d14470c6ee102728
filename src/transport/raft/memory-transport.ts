// An in-memory network of Raft transports for tests and in-process benchmarks. Delivery is
// asynchronous (a later event-loop turn, in send order per pair of nodes) so that a receiver
// never runs inside its sender's call stack, as with a real network. Links can be cut one way
// or both, and a node isolated, to test partitions; queues are bounded and overflow is dropped.

import { ConfigError, TstanError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { silentLogger } from '../../util/logger.js';
import type { RaftMessageHandler, RaftTransport } from '../../raft/transport.js';
import { isValidNodeId } from './node-id.js';

export interface MemoryNetworkOptions {
  /** Messages waiting for delivery across the whole network before new ones are dropped. */
  readonly queuedMessagesMax?: number;
  readonly logger?: Logger;
}

export interface MemoryNetworkStats {
  readonly sent: number;
  readonly delivered: number;
  readonly dropped: number;
}

interface InFlight<M> {
  readonly from: string;
  readonly to: string;
  readonly message: M;
}

export class MemoryNetwork<M> {
  private readonly nodes = new Map<string, MemoryTransport<M>>();
  private readonly cutLinks = new Set<string>();
  private readonly queuedMessagesMax: number;
  private readonly logger: Logger;
  private queue: Array<InFlight<M>> = [];
  private flushScheduled = false;
  private sent = 0;
  private delivered = 0;
  private dropped = 0;

  constructor(options: MemoryNetworkOptions = {}) {
    this.queuedMessagesMax = options.queuedMessagesMax ?? 100_000;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'memory-transport' });
  }

  /** Attaches node `id` to the network (again, after a restart). */
  connect(id: string): MemoryTransport<M> {
    if (!isValidNodeId(id)) throw new ConfigError(`invalid raft node ID '${id}'`);
    if (this.nodes.has(id)) throw new TstanError('TRANSPORT_DUPLICATE_NODE', `node '${id}' is already connected`);
    const transport = new MemoryTransport<M>(this, id);
    this.nodes.set(id, transport);
    return transport;
  }

  /** Stops delivery from `from` to `to` (one way). */
  cut(from: string, to: string): void {
    this.cutLinks.add(`${from}\u0000${to}`);
  }

  /** Cuts every link to and from `id`. */
  isolate(id: string, peers: readonly string[]): void {
    for (const peer of peers) {
      if (peer === id) continue;
      this.cut(id, peer);
      this.cut(peer, id);
    }
  }

  /** Restores every link. */
  heal(): void {
    this.cutLinks.clear();
  }

  stats(): MemoryNetworkStats {
    return { sent: this.sent, delivered: this.delivered, dropped: this.dropped };
  }

  /** @internal */
  enqueue(from: string, to: string, message: M): void {
    this.sent++;
    if (this.queue.length >= this.queuedMessagesMax) {
      this.dropped++;
      return;
    }
    this.queue.push({ from, to, message });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** @internal */
  detach(transport: MemoryTransport<M>): void {
    if (this.nodes.get(transport.localId) === transport) this.nodes.delete(transport.localId);
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const { from, to, message } of batch) {
      const target = this.nodes.get(to);
      // A message already sent is in the network: it arrives even if its sender has closed since.
      if (target === undefined || this.cutLinks.has(`${from}\u0000${to}`)) {
        this.dropped++;
        continue;
      }
      this.delivered++;
      try {
        target.deliver(message, from);
      } catch (error) {
        // A receiver that throws must not take the network (or the other nodes) down with it.
        this.logger.error({ err: error, from, to }, 'raft message handler threw');
      }
    }
  }
}

export class MemoryTransport<M> implements RaftTransport<M> {
  readonly localId: string;
  private readonly network: MemoryNetwork<M>;
  private handler: RaftMessageHandler<M> | undefined;
  private closed = false;

  constructor(network: MemoryNetwork<M>, localId: string) {
    this.network = network;
    this.localId = localId;
  }

  send(to: string, message: M): void {
    if (this.closed) return;
    this.network.enqueue(this.localId, to, message);
  }

  onMessage(handler: RaftMessageHandler<M>): void {
    this.handler = handler;
  }

  close(): Promise<void> {
    this.closed = true;
    this.handler = undefined;
    this.network.detach(this);
    return Promise.resolve();
  }

  /** @internal */
  deliver(message: M, from: string): void {
    if (!this.closed && this.handler !== undefined) this.handler(message, from);
  }
}
