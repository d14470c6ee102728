// The network between the nodes of a chaos cluster: a link proxy for every directed pair (node
// `a` reaches `b`'s route port only through proxy a>b), and a sink for route gossip. Each node is
// started with `--routes` naming its proxies and `--cluster_advertise` naming the sink, so a node
// that learns of a peer by gossip dials the sink, never the peer directly: no route bypasses a
// fault (docs/testing.md §5.1). Clients connect to the nodes directly, so a node cut off from its peers
// keeps its clients (scenario 5).
//
// Faults are stated as directed traffic: `block(x, y)` drops every message from x to y, on both
// connections between them (the one x dialled and the one y dialled; the routes keep one of the
// two, which one is not ours to know). Partitions, isolation, one-way faults, bridges and rings are
// sets of blocked directions; `cut` tears the TCP connections down instead.
import { createServer, type Server } from 'node:net';
import { deriveSeed, seededRandom } from '../random.js';
import { LinkProxy, passing, type DirectionFault } from './link-proxy.js';

export interface LinkCondition {
  readonly delayMs: number;
  readonly jitterMs: number;
  readonly dropProbability: number;
}

export interface NetworkStats {
  readonly gossipDialsSunk: number;
  readonly framesDropped: number;
  readonly framesDelayed: number;
  readonly connectionsRefused: number;
}

const key = (from: string, to: string) => `${from}>${to}`;

export class ChaosNetwork {
  private readonly proxies = new Map<string, LinkProxy>();
  private readonly blocked = new Set<string>();
  private readonly conditions = new Map<string, LinkCondition>();
  private sink: Server | undefined;
  private sinkPort = 0;
  private sunk = 0;

  private constructor(readonly nodes: readonly string[]) {}

  /** Starts a proxy per directed pair toward each node's route port, and the gossip sink. */
  static async create(routePorts: ReadonlyMap<string, number>, seed: number): Promise<ChaosNetwork> {
    const network = new ChaosNetwork([...routePorts.keys()]);
    try {
      for (const from of network.nodes) {
        for (const [to, port] of routePorts) {
          if (to === from) continue;
          const proxy = new LinkProxy(from, to, port, seededRandom(deriveSeed(seed, `link-${key(from, to)}`)));
          network.proxies.set(key(from, to), proxy);
          await proxy.listen();
        }
      }
      await network.startSink();
    } catch (error) {
      await network.close();
      throw error;
    }
    return network;
  }

  private async startSink(): Promise<void> {
    const sink = createServer((socket) => {
      this.sunk++;
      socket.on('error', () => undefined);
      socket.destroy();
    });
    this.sink = sink;
    await new Promise<void>((resolve, reject) => {
      sink.once('error', reject);
      sink.listen(0, '127.0.0.1', () => resolve());
    });
    const address = sink.address();
    this.sinkPort = typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** `--routes` for node `id`: its proxies toward every other node. */
  routesOf(id: string): string[] {
    return this.nodes.filter((to) => to !== id).map((to) => `nats-route://127.0.0.1:${this.proxy(id, to).port}`);
  }

  /** `--cluster_advertise` for every node: gossip about it leads to the sink. */
  get advertise(): string {
    return `127.0.0.1:${this.sinkPort}`;
  }

  private proxy(from: string, to: string): LinkProxy {
    const proxy = this.proxies.get(key(from, to));
    if (proxy === undefined) throw new Error(`no link ${from}>${to}`);
    return proxy;
  }

  /** Messages from `from` to `to` are dropped (on both connections between them). */
  block(from: string, to: string): void {
    this.blocked.add(key(from, to));
    this.apply(from, to);
  }

  unblock(from: string, to: string): void {
    this.blocked.delete(key(from, to));
    this.apply(from, to);
  }

  /** Both directions between `a` and `b`. */
  blockBoth(a: string, b: string): void {
    this.block(a, b);
    this.block(b, a);
  }

  /** Nodes in different groups cannot exchange messages; nodes in no group are cut from all. */
  partition(groups: readonly (readonly string[])[]): void {
    const groupOf = new Map<string, number>();
    groups.forEach((group, index) => group.forEach((id) => groupOf.set(id, index)));
    for (const a of this.nodes) {
      for (const b of this.nodes) {
        if (a !== b && (groupOf.get(a) === undefined || groupOf.get(a) !== groupOf.get(b))) this.block(a, b);
      }
    }
  }

  isolate(id: string): void {
    for (const other of this.nodes) if (other !== id) this.blockBoth(id, other);
  }

  /** Delay, jitter and frame loss on both directions between `a` and `b`. */
  degrade(a: string, b: string, condition: LinkCondition): void {
    this.conditions.set(key(a, b), condition);
    this.conditions.set(key(b, a), condition);
    this.apply(a, b);
    this.apply(b, a);
  }

  /** Tears down the TCP connections between `a` and `b` and refuses new ones until heal(). */
  cut(a: string, b: string): void {
    this.proxy(a, b).cutLink();
    this.proxy(b, a).cutLink();
  }

  /** Every link passes again; cut links accept connections again. */
  heal(): void {
    this.blocked.clear();
    this.conditions.clear();
    for (const proxy of this.proxies.values()) {
      proxy.setFault('forward', passing);
      proxy.setFault('backward', passing);
      proxy.restore();
    }
  }

  /** Directed pairs whose messages are dropped now, e.g. `a>b`. */
  blockedLinks(): string[] {
    return [...this.blocked].sort();
  }

  stats(): NetworkStats {
    let framesDropped = 0;
    let framesDelayed = 0;
    let connectionsRefused = 0;
    for (const proxy of this.proxies.values()) {
      framesDropped += proxy.stats.forward.dropped + proxy.stats.backward.dropped;
      framesDelayed += proxy.stats.forward.delayed + proxy.stats.backward.delayed;
      connectionsRefused += proxy.stats.refused;
    }
    return { gossipDialsSunk: this.sunk, framesDropped, framesDelayed, connectionsRefused };
  }

  /**
   * The traffic from→to travels forward on proxy from>to and backward on proxy to>from; each
   * direction's fault is recomputed from the blocked set and the link conditions.
   */
  private apply(from: string, to: string): void {
    const fault = this.faultOf(from, to);
    this.proxy(from, to).setFault('forward', fault);
    this.proxy(to, from).setFault('backward', fault);
  }

  private faultOf(from: string, to: string): DirectionFault {
    const condition = this.conditions.get(key(from, to));
    return {
      blocked: this.blocked.has(key(from, to)),
      dropProbability: condition?.dropProbability ?? 0,
      delayMs: condition?.delayMs ?? 0,
      jitterMs: condition?.jitterMs ?? 0,
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.proxies.values()].map((proxy) => proxy.close()));
    const sink = this.sink;
    this.sink = undefined;
    if (sink !== undefined) await new Promise<void>((resolve) => sink.close(() => resolve()));
  }
}
