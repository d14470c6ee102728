// Proves a running Raft cluster on three meshed embedded servers shrugs off whatever an in-process
// connection publishes on a node's Raft subject: seeded random payloads, frames whose sender,
// receiver and reply subject disagree, well-framed messages of the wrong shape or failing the
// message union's checks, and a flood of fragments of messages that never complete. Each is
// dropped and counted exactly once, partial reassembly stays within its bounds, nothing throws
// into the driver, and the cluster goes on electing and committing.
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { pack } from 'msgpackr';
import { MessageCodec } from '../../src/transport/raft/message-codec.js';
import { packFrames } from '../../src/transport/raft/frames.js';
import { startMesh, stopMesh, type MeshNode } from '../support/mesh.js';
import { until } from '../support/embedded.js';
import { appliedEverywhere, clusterId, NatsRaftCluster, proposeMany, type NatsRaftNode } from './support/nats-raft-cluster.js';

const ids = ['a', 'b', 'c'] as const;
let mesh: MeshNode[] = [];
let cluster: NatsRaftCluster | undefined;

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
  await stopMesh(mesh);
  mesh = [];
});

const subjectOf = (id: string): string => `_STAN.raft.${clusterId}.${id}`;

function dropped(node: NatsRaftNode): { malformed: number; forged: number } {
  const stats = node.transport.stats();
  return { malformed: stats.droppedMalformed, forged: stats.droppedForged };
}

describe('forged and malformed Raft frames from an in-process connection', () => {
  it('are dropped and counted, bounded, and never stop the cluster', async () => {
    mesh = await startMesh(3);
    const connections = new Map(ids.map((id, i) => [id, mesh[i]!.server.connectLocal(`raft-${id}`)] as const));
    const c = (cluster = await NatsRaftCluster.start(connections, { transport: { reassemblyPartialsMax: 8, reassemblyBytesMax: 256 * 1024 } }));
    const leader = await c.waitForLeader();
    await proposeMany(leader.driver, 'before', 50);
    // The target is a follower; the intruder sits on the leader's server, so its frames cross a route.
    const target = c.node(ids.find((id) => id !== leader.id)!);
    const peer = ids.find((id) => id !== leader.id && id !== target.id)!;
    const intruder = mesh[ids.indexOf(leader.id as (typeof ids)[number])]!.server.connectLocal('intruder');
    const subject = subjectOf(target.id);
    let expected = dropped(target);
    const expectDropped = async (malformed: number, forged: number, what: string): Promise<void> => {
      expected = { malformed: expected.malformed + malformed, forged: expected.forged + forged };
      await until(() => {
        const now = dropped(target);
        return now.malformed + now.forged === expected.malformed + expected.forged;
      }, 10_000, what);
      expect(dropped(target), what).toEqual(expected);
    };
    // 1. Seeded random payloads, without a reply subject: each is one malformed or forged frame.
    const random = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 300 }), { seed: 11, numRuns: 300 });
    const before = dropped(target);
    for (const payload of random) intruder.publish(subject, payload);
    await until(() => {
      const now = dropped(target);
      return now.malformed + now.forged - before.malformed - before.forged === random.length;
    }, 10_000, 'every random payload dropped');
    expected = dropped(target);

    // 2. Well-formed frames of valid messages whose envelope does not hold together.
    const codec = new MessageCodec();
    const heartbeat = (from: string, to: string): Uint8Array => codec.encode({ type: 'heartbeat', from, to, term: 1, commit: 0 });
    const frame = (from: string, to: string, messages: Uint8Array[]): Uint8Array => packFrames(from, to, messages, 1 << 20, () => 1)[0]!;
    intruder.publish(subject, frame(peer, target.id, [heartbeat(peer, target.id)]), subjectOf(leader.id)); // reply names another node
    intruder.publish(subject, frame(peer, target.id, [heartbeat(peer, target.id)])); // no reply subject
    intruder.publish(subject, frame(peer, peer, [heartbeat(peer, peer)]), subjectOf(peer)); // for another node
    intruder.publish(subject, frame(target.id, target.id, [heartbeat(target.id, target.id)]), subject); // from itself
    intruder.publish(subject, frame('join', target.id, [heartbeat('join', target.id)]), subjectOf('join')); // not a node ID
    await expectDropped(0, 5, 'forged envelopes');

    // 3. A correct envelope around messages that are not Raft messages of the union.
    const bad: Uint8Array[] = [
      new Uint8Array([0xc1]),
      new Uint8Array([0x93, 0x01]),
      pack([99, 1]),
      pack([7, -1]),
      pack([7, 1.5]),
      pack([6, 2 ** 60, 0]),
      pack([6, 1, '0']),
      pack({ type: 'heartbeat', term: 1, commit: 0 }),
      pack([4, 1, 0, 0, 0, [5, 0, new Uint8Array(1)]]), // an entry of a later term than its message
      pack([8, 1, 1, 1, ['bad id'], [], 0, 1, new Uint8Array(1), true]),
    ];
    intruder.publish(subject, frame(peer, target.id, bad), subjectOf(peer));
    await expectDropped(bad.length, 0, 'malformed messages in a correct envelope');

    // 4. A flood of fragments of messages that never complete: bounded, then given up.
    const fragment = (messageId: number, totalBytes: number, offset: number, chunk: number): Uint8Array => {
      const header = Buffer.from([1, 2, peer.length, ...Buffer.from(peer), target.id.length, ...Buffer.from(target.id)]);
      const fields = Buffer.alloc(12);
      fields.writeUInt32BE(messageId, 0);
      fields.writeUInt32BE(totalBytes, 4);
      fields.writeUInt32BE(offset, 8);
      return Buffer.concat([header, fields, Buffer.alloc(chunk, 7)]);
    };
    const fragmentsBefore = target.transport.stats().fragmentsReceived;
    for (let id = 0; id < 200; id++) intruder.publish(subject, fragment(id, 100 * 1024 * 1024, 0, 10_000), subjectOf(peer));
    for (let id = 0; id < 50; id++) intruder.publish(subject, fragment(1000 + id, 100_000, 0, 40_000), subjectOf(peer));
    intruder.publish(subject, fragment(5000, 100, 90, 20), subjectOf(peer)); // a chunk past its message's end
    await expectDropped(1, 0, 'a fragment beyond its message');
    expect(target.transport.stats().fragmentsReceived - fragmentsBefore).toBe(250);
    const stats = target.transport.stats();
    expect(stats.reassemblyPartials).toBeLessThanOrEqual(8);
    expect(stats.reassemblyBytes).toBeLessThanOrEqual(256 * 1024);
    expect(stats.reassembliesRefused).toBe(200); // each over messageBytesMax
    expect(stats.reassembliesEvicted).toBeGreaterThan(0);

    // Nothing reached the driver as an error, and the cluster still elects and commits.
    for (const node of c.nodes.values()) {
      expect(node.driver.isStopped).toBe(false);
      expect(node.transport.stats().handlerErrors).toBe(0);
    }
    const now = await c.waitForLeader();
    const after = await proposeMany(now.driver, 'after', 100);
    await c.waitForApplied(Math.max(...after.keys()));
    expect(appliedEverywhere([...c.nodes.values()], after)).toBe(true);
  });
});
