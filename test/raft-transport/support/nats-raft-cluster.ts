// A Raft cluster whose nodes talk through NATS: each node a RaftDriver with LevelDB storage in a
// temporary directory, the NATS transport on a connection of its own (an embedded server's
// in-process connection, or a `nats` client of an external nats-server), and a state machine that
// records what it applies. Waits follow the drivers' events, each with a deadline, never a sleep.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RaftDriver, type RaftDriverOptions } from '../../../src/raft/driver.js';
import { DurableRaftStorage } from '../../../src/store/raft/durable-storage.js';
import type { NatsConnection } from '../../../src/transport/nats/connection.js';
import { NatsRaftTransport, type NatsRaftTransportOptions } from '../../../src/transport/raft/nats-transport.js';
import { RecordingStateMachine } from '../../raft-driver/support/cluster.js';

export const clusterId = 'raft-test';

export interface NatsRaftNode {
  readonly id: string;
  readonly connection: NatsConnection;
  readonly transport: NatsRaftTransport;
  readonly driver: RaftDriver;
  readonly stateMachine: RecordingStateMachine;
}

export interface NatsRaftClusterOptions {
  readonly tickMs?: number;
  readonly snapshotEveryEntries?: number;
  readonly raft?: RaftDriverOptions['raft'];
  readonly transport?: Partial<NatsRaftTransportOptions>;
}

export class NatsRaftCluster {
  readonly nodes = new Map<string, NatsRaftNode>();
  private readonly wakeups = new Set<() => void>();

  private constructor(
    readonly root: string,
    readonly ids: readonly string[],
    private readonly options: NatsRaftClusterOptions,
  ) {}

  /** Starts one node per connection, named by the keys of `connections`. */
  static async start(connections: ReadonlyMap<string, NatsConnection>, options: NatsRaftClusterOptions = {}): Promise<NatsRaftCluster> {
    const root = await mkdtemp(join(tmpdir(), 'tstan-raft-nats-'));
    const cluster = new NatsRaftCluster(root, [...connections.keys()], options);
    for (const [id, connection] of connections) await cluster.startNode(id, connection);
    return cluster;
  }

  async startNode(id: string, connection: NatsConnection): Promise<NatsRaftNode> {
    const stateMachine = new RecordingStateMachine();
    const storage = await DurableRaftStorage.open(join(this.root, id));
    const transport = new NatsRaftTransport({ connection, clusterId, localId: id, ...this.options.transport });
    const driver = await RaftDriver.start({
      id,
      storage,
      transport,
      stateMachine,
      bootstrap: { voters: [...this.ids], nonVoters: [] },
      tickMs: this.options.tickMs ?? 50,
      snapshotEveryEntries: this.options.snapshotEveryEntries ?? 8192,
      ...(this.options.raft !== undefined ? { raft: this.options.raft } : {}),
    });
    // After every listener of the event has run (a test's own may be what the condition reads).
    driver.onEvent(() => queueMicrotask(() => this.wake()));
    const node = { id, connection, transport, driver, stateMachine };
    this.nodes.set(id, node);
    this.wake();
    return node;
  }

  node(id: string): NatsRaftNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  running(): NatsRaftNode[] {
    return [...this.nodes.values()].filter((node) => !node.driver.isStopped);
  }

  /** A leader that every node in `among` (default: every running node) follows in its term. */
  async waitForLeader(among: readonly string[] = this.running().map((n) => n.id), timeoutMs = 15_000): Promise<NatsRaftNode> {
    let leader: NatsRaftNode | undefined;
    await this.waitUntil(() => {
      const nodes = among.map((id) => this.node(id));
      leader = nodes.find((n) => n.driver.role === 'leader');
      return leader !== undefined && nodes.every((n) => n.driver.leader === leader!.id && n.driver.term === leader!.driver.term);
    }, timeoutMs, `a leader followed by ${among.join(', ')}`);
    return leader!;
  }

  async waitForApplied(index: number, among: readonly string[] = this.running().map((n) => n.id), timeoutMs = 15_000): Promise<void> {
    await this.waitUntil(() => among.every((id) => this.node(id).driver.appliedIndex >= index), timeoutMs, `${among.join(', ')} applied ${index}`);
  }

  /** Resolves when `condition` holds, re-checked on every driver event and every `wake()`. */
  waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        this.wakeups.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.wakeups.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.wakeups.add(check);
    });
  }

  wake(): void {
    for (const check of [...this.wakeups]) check();
  }

  async stopNode(id: string): Promise<void> {
    await this.nodes.get(id)?.driver.stop();
    this.wake();
  }

  /** Stops every driver (which closes its transport and storage) and removes the data. */
  async stop(): Promise<void> {
    for (const node of this.nodes.values()) await node.driver.stop();
    await rm(this.root, { recursive: true, force: true });
  }
}

const encoder = new TextEncoder();

/** Proposes `count` payloads through `leader`; returns the acknowledged ones by index. */
export async function proposeMany(leader: RaftDriver, prefix: string, count: number): Promise<Map<number, string>> {
  const acknowledged = new Map<number, string>();
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const data = `${prefix}-${i}`;
      acknowledged.set((await leader.propose(encoder.encode(data))).index, data);
    }),
  );
  return acknowledged;
}

/** Every acknowledged proposal is applied, at its index, on each of `nodes`. */
export function appliedEverywhere(nodes: readonly NatsRaftNode[], acknowledged: ReadonlyMap<number, string>): boolean {
  return nodes.every((node) => {
    const byIndex = new Map(node.stateMachine.records.map((record) => [record.index, record.data]));
    for (const [index, data] of acknowledged) if (byIndex.get(index) !== data) return false;
    return true;
  });
}
