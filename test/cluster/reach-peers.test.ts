// Proves the check a new leader makes before it says it serves: once every peer answered its
// probe, every peer's server knows the subscriptions its connection flushed before, so a client of
// any node reaches them. A peer that is down lets the check pass after its wait; malformed answers
// and nodes outside the configuration do not count. Three routed embedded servers, one process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Packr } from 'msgpackr';
import type { NatsConnection } from '../../src/transport/nats/connection.js';
import { answerStateProbes, reachPeers, stateSubject } from '../../src/cluster/startup.js';
import { startMesh, stopMesh, type MeshNode } from '../support/mesh.js';
import { until } from '../support/embedded.js';

const clusterId = 'reach';
const packr = new Packr({ useRecords: false, mapsAsObjects: true });
const flush = (connection: NatsConnection): Promise<void> => new Promise((resolve) => connection.flush(() => resolve()));

describe('reaching the peers before serving', () => {
  let nodes: MeshNode[];
  let connections: NatsConnection[];

  beforeAll(async () => {
    nodes = await startMesh(3);
    connections = await Promise.all(nodes.map((node, i) => node.server.connector().connect(`_NSS-reach-${i}`)));
    answerStateProbes(connections[1]!, clusterId, 'b', () => true);
    answerStateProbes(connections[2]!, clusterId, 'c', () => false);
    await Promise.all(connections.map(flush));
    // A's server knows of both probe subscriptions before the first probe.
    await until(() => nodes[0]!.server.sublist.match(stateSubject(clusterId)).plain.length === 2);
  });

  afterAll(async () => {
    for (const connection of connections) await connection.close();
    await stopMesh(nodes);
  });

  it('resolves with every peer, and by then every peer server knows the subscriptions flushed before it', async () => {
    const [a] = connections as [NatsConnection];
    for (let round = 0; round < 25; round++) {
      const subject = `_STAN.acks.round${round}.>`;
      a.subscribe(subject, () => undefined);
      await flush(a);
      const answered = await reachPeers(a, clusterId, 'a', ['b', 'c'], 10_000);
      // Checked at once, before any other I/O could let a route catch up.
      const known = nodes.map((node) => node.server.hasInterest(`_STAN.acks.round${round}.x`));
      expect([...answered].sort()).toEqual(['b', 'c']);
      expect(known).toEqual([true, true, true]);
    }
  });

  it('passes after its wait with the peers that answered when one is down', async () => {
    const answered = await reachPeers(connections[0]!, clusterId, 'a', ['b', 'c', 'down'], 300);
    expect([...answered].sort()).toEqual(['b', 'c']);
  });

  it('counts neither malformed answers nor nodes outside the configuration', async () => {
    const [a, b] = connections as [NatsConnection, NatsConnection];
    const impostor = b.subscribe(stateSubject(clusterId), (_subject, reply) => {
      if (reply === undefined) return;
      b.publish(reply, new Uint8Array([0xc1, 0xff, 0x00]));
      b.publish(reply, packr.pack(['stranger', true]));
      b.publish(reply, packr.pack({ node: 'c' }));
    });
    await flush(b);
    try {
      const answered = await reachPeers(a, clusterId, 'a', ['b', 'c', 'e'], 300);
      expect([...answered].sort()).toEqual(['b', 'c']);
    } finally {
      impostor.unsubscribe();
    }
  });

  it('resolves at once when there are no peers', async () => {
    expect((await reachPeers(connections[0]!, clusterId, 'a', [], 10_000)).size).toBe(0);
  });
});
