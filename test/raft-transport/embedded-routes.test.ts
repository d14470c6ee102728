// Proves Raft over NATS on tstan's own servers: three embedded NATS servers meshed by routes on
// free loopback ports, each with a RaftDriver (LevelDB in a temp dir, the NATS transport on an
// in-process connection): a leader is elected, proposals commit on all three, stopping the leader's
// NATS server elects another that commits; messages queued together share a NATS message; a 3 MB
// proposal crosses routes whose max_payload is 1 MB, and a follower catches up by a snapshot whose
// chunks exceed a 16 KB max_payload; real `nats` clients are refused the Raft subjects and a `>`
// subscriber sees none of the traffic.
import { afterEach, describe, expect, it } from 'vitest';
import { connect, ErrorCode, type Status } from 'nats';
import type { Message } from '../../src/raft/messages.js';
import { NatsRaftTransport } from '../../src/transport/raft/nats-transport.js';
import { startMesh, stopMesh, type MeshNode } from '../support/mesh.js';
import { until } from '../support/embedded.js';
import { appliedEverywhere, clusterId, NatsRaftCluster, proposeMany } from './support/nats-raft-cluster.js';

const ids = ['a', 'b', 'c'] as const;
let mesh: MeshNode[] = [];
let cluster: NatsRaftCluster | undefined;
const cleanups: Array<() => Promise<unknown> | void> = [];

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await stopMesh(mesh);
  mesh = [];
});

/** A mesh of three servers and a Raft node on each, node `ids[i]` on server `i`. */
async function startCluster(options: Parameters<typeof startMesh>[1] = {}, clusterOptions: Parameters<typeof NatsRaftCluster.start>[1] = {}): Promise<NatsRaftCluster> {
  mesh = await startMesh(3, options);
  const connections = new Map(ids.map((id, i) => [id, mesh[i]!.server.connectLocal(`raft-${id}`)] as const));
  cluster = await NatsRaftCluster.start(connections, clusterOptions);
  return cluster;
}

function serverOf(id: string): MeshNode {
  return mesh[ids.indexOf(id as (typeof ids)[number])]!;
}

describe('Raft over the embedded servers routes', () => {
  it('elects, commits on all three, and elects another leader when the leader NATS server stops', async () => {
    const c = await startCluster();
    const leader = await c.waitForLeader();
    const acknowledged = await proposeMany(leader.driver, 'first', 200);
    await c.waitForApplied(Math.max(...acknowledged.keys()));
    expect(appliedEverywhere([...c.nodes.values()], acknowledged)).toBe(true);
    const sent = leader.transport.stats();
    expect(sent.messagesSent).toBeGreaterThan(sent.framesSent);
    for (const node of c.nodes.values()) {
      expect(node.transport.stats()).toMatchObject({ droppedMalformed: 0, droppedForged: 0, handlerErrors: 0 });
    }

    await serverOf(leader.id).server.shutdown();
    const survivors = ids.filter((id) => id !== leader.id);
    const second = await c.waitForLeader(survivors);
    expect(second.id).not.toBe(leader.id);
    expect(second.driver.term).toBeGreaterThan(leader.driver.term);
    const more = await proposeMany(second.driver, 'second', 100);
    await c.waitForApplied(Math.max(...more.keys()), survivors);
    expect(appliedEverywhere(survivors.map((id) => c.node(id)), more)).toBe(true);
    // The old leader's sends went nowhere, counted, and nothing threw into its driver.
    expect(leader.transport.stats().droppedNotSent).toBeGreaterThan(0);
    expect(leader.driver.isStopped).toBe(false);
  });

  it('packs the messages queued for one peer in one turn into one NATS message', async () => {
    mesh = await startMesh(2);
    const a = new NatsRaftTransport({ connection: mesh[0]!.server.connectLocal('a'), clusterId, localId: 'a' });
    const b = new NatsRaftTransport({ connection: mesh[1]!.server.connectLocal('b'), clusterId, localId: 'b' });
    cleanups.push(() => a.close(), () => b.close());
    const received: Message[] = [];
    b.onMessage((message) => received.push(message));
    await until(() => mesh[0]!.server.hasInterest(b.subject), 5_000, "b's subject known at a");
    for (let i = 0; i < 10; i++) a.send('b', { type: 'heartbeat', from: 'a', to: 'b', term: 1, commit: i });
    a.send('b', { type: 'timeoutNow', from: 'a', to: 'b', term: 1 });
    await until(() => received.length === 11, 5_000, 'eleven messages at b');
    expect(received.map((m) => (m.type === 'heartbeat' ? m.commit : m.type))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 'timeoutNow']);
    expect(a.stats()).toMatchObject({ messagesSent: 11, framesSent: 1, fragmentsSent: 0 });
    expect(b.stats()).toMatchObject({ messagesReceived: 11, framesReceived: 1 });
    // A peer nobody listens for: dropped and counted, never thrown.
    a.send('nobody', { type: 'timeoutNow', from: 'a', to: 'nobody', term: 1 });
    await until(() => a.stats().droppedUnreachable === 1, 5_000, 'the unreachable drop');
  });

  it('replicates a 3 MB proposal through routes whose max_payload is 1 MB', async () => {
    const c = await startCluster({ maxPayloadBytes: 1024 * 1024 });
    const leader = await c.waitForLeader();
    const big = new Uint8Array(3 * 1024 * 1024).fill(0x78);
    const { index } = await leader.driver.propose(big);
    await c.waitForApplied(index);
    for (const node of c.nodes.values()) {
      const record = node.stateMachine.records.find((r) => r.index === index);
      expect(record?.data.length).toBe(big.length);
    }
    expect(leader.transport.stats().fragmentsSent).toBeGreaterThanOrEqual(2 * 4);
    for (const id of ids.filter((id) => id !== leader.id)) expect(c.node(id).transport.stats().messagesReassembled).toBeGreaterThanOrEqual(1);
    // Every route survived: no frame went over what a route accepts.
    for (const node of mesh) expect(node.server.routes.routes.size).toBe(2);
    const after = await proposeMany(leader.driver, 'after', 20);
    await c.waitForApplied(Math.max(...after.keys()));
  });

  it('catches a follower up by a snapshot sent in fragments under a 16 KB max_payload', async () => {
    const c = await startCluster({ maxPayloadBytes: 16 * 1024 }, { snapshotEveryEntries: 50, raft: { trailingLogs: 10 } });
    const leader = await c.waitForLeader();
    const follower = ids.find((id) => id !== leader.id)!;
    const connection = c.node(follower).connection;
    await c.stopNode(follower);
    const filler = 'y'.repeat(1000);
    const acknowledged = await proposeMany(leader.driver, filler, 300);
    await c.startNode(follower, connection);
    await c.waitForApplied(Math.max(...acknowledged.keys()), ids);
    const caughtUp = c.node(follower);
    expect(caughtUp.stateMachine.restores).toBeGreaterThan(0);
    expect(caughtUp.transport.stats().messagesReassembled).toBeGreaterThan(0);
    expect(appliedEverywhere([...c.nodes.values()], acknowledged)).toBe(true);
  });

  it('refuses real clients the Raft subjects; a `>` subscriber sees no Raft traffic', async () => {
    const c = await startCluster();
    const leader = await c.waitForLeader();
    const target = ids.find((id) => id !== leader.id)!;
    const onTarget = serverOf(target);
    const client = await connect({ port: onTarget.port, reconnect: false });
    cleanups.push(() => client.close());
    const errors: Status[] = [];
    void (async () => {
      for await (const status of client.status()) if (status.type === 'error') errors.push(status);
    })();
    const seen: string[] = [];
    client.subscribe('>', { callback: (_error, msg) => void seen.push(msg.subject) });
    const refusedSub = new Promise<string>((resolve) =>
      client.subscribe(`_STAN.raft.${clusterId}.>`, { callback: (error) => error && resolve(error.message) }),
    );
    await client.flush();
    const acknowledged = await proposeMany(leader.driver, 'watched', 100);
    await c.waitForApplied(Math.max(...acknowledged.keys()));
    expect(await refusedSub).toMatch(/Permissions Violation for Subscription to "_STAN\.raft\.raft-test\.>"/);

    // A forged frame published by the client never reaches the target's transport.
    const before = c.node(target).transport.stats();
    client.publish(`_STAN.raft.${clusterId}.${target}`, new Uint8Array([1, 1, 1, 0x61, 1, 0x62, 0, 0]));
    client.publish('marker');
    await client.flush();
    await until(() => seen.includes('marker') && errors.length === 1, 5_000, 'the marker and the refusal');
    expect(errors[0]!.data).toBe(ErrorCode.PermissionsViolation);
    const after = c.node(target).transport.stats();
    expect(after.droppedForged + after.droppedMalformed).toBe(before.droppedForged + before.droppedMalformed);
    expect(seen.filter((subject) => subject.startsWith('_STAN.'))).toEqual([]);
    expect(client.isClosed()).toBe(false);
  });
});
