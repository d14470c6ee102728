// Proves membership changes and planned restarts on real tstan processes:
// - a 3-node cluster grows to 5 while serving (each new node asks to join, is added as a non-voter
//   and promoted once it has caught up), keeps serving through a leader kill, and drops a node;
// - a rolling restart with SIGTERM, node after node, under load: each leader hands leadership to
//   its most up-to-date voter before it stops, so no election timeout is waited out; the longest
//   gap between acks is printed, nothing a subscriber acknowledged is redelivered, and the
//   publisher's messages are stored in the order it sent them.
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster } from './support/cluster.js';
import { Publisher, Subscriber, connect, connectResilient, publishAll } from './support/workload.js';
import type { StanSession } from '../jepsen-like/stan-client.js';

describe('cluster membership and planned restarts', () => {
  let cluster: TestCluster | undefined;
  const sessions: StanSession[] = [];
  afterEach(async () => {
    for (const session of sessions.splice(0)) session.close();
    await cluster?.stop();
    cluster = undefined;
  });


  it('grows from 3 to 5 voters while serving, survives a leader kill, and removes a node', async () => {
    const args = ['--cluster_allow_add_remove_node'];
    cluster = await TestCluster.create({ size: 3, args });
    await cluster.startAll();
    const first = await cluster.leader();
    const acked = await publishAll(cluster.node(first).url, 'p1', 1_000, 'one-');
    for (const id of ['d', 'e']) {
      // No founding peers, no seed: the node asks the leader to add it.
      const node = await cluster.addNodeSpec(id, [], args);
      await node.start(60_000);
      await cluster.until(first, (v) => v.voters.includes(id), 60_000);
    }
    const five = await cluster.until(first, (v) => v.voters.length === 5 && v.non_voters.length === 0);
    expect([...five.voters].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);

    cluster.node(first).signal('SIGKILL');
    await cluster.node(first).waitExit();
    const next = await cluster.leader(30_000, [first]);
    for (const value of await publishAll(cluster.node(next).url, 'p2', 500, 'two-')) acked.add(value);

    // The dead node is removed through any node's monitoring port.
    const response = await fetch(`${cluster.node(next).monitorUrl}/streaming/clusterz/remove?node=${first}`);
    expect(((await response.json()) as { answer: string }).answer).toBe('+OK');
    const four = await cluster.until(next, (v) => v.voters.length === 4);
    expect(four.voters).not.toContain(first);

    const reader = await connect(cluster.node(next).url, 'reader');
    sessions.push(reader);
    const subscriber = await Subscriber.start(reader, 'orders', 'all');
    await subscriber.received(acked, 60_000);
    expect(subscriber.check()).toMatchObject({ gaps: 0, payloadConflicts: 0 });
    const digests = await cluster.digestsAfterConvergence();
    expect(new Set(digests.values()).size).toBe(1);
  }, 240_000);

  it('a rolling restart with SIGTERM hands leadership over: short ack gaps, nothing acknowledged redelivered', async () => {
    cluster = await TestCluster.create({ size: 3 });
    await cluster.startAll();
    await cluster.leader();
    const pubSession = await connectResilient(cluster.urls, 'publisher');
    const subSession = await connectResilient(cluster.urls, 'subscriber');
    sessions.push(pubSession, subSession);
    const subscriber = await Subscriber.start(subSession, 'orders', 'dur');
    const publisher = new Publisher(pubSession, 'orders', 1_000_000, 64);
    const running = publisher.run();
    await publisher.reached(2_000);
    const first = await cluster.leader();
    // Followers first, the leader last, as an operator would.
    const order = [...[...cluster.nodes.keys()].filter((id) => id !== first), first];
    for (const id of order) {
      const before = publisher.acked.size;
      await cluster.node(id).stop();
      await cluster.node(id).start(60_000);
      await cluster.until(id, (v) => v.ready, 60_000);
      await publisher.reached(before + 2_000);
    }
    publisher.stop();
    void running;
    await subscriber.received(publisher.acked, 60_000);
    // Everything stored reaches the subscriber, messages lost in transit by redelivery.
    const leader = await cluster.leader();
    await subscriber.receivedThrough(await cluster.lastSeq(leader, 'orders'), 60_000);
    const check = subscriber.check();
    console.log(
      `rolling restart: acked ${publisher.acked.size}, republished ${publisher.stats.retried}, longest gap between acks ` +
        `${publisher.stats.longestAckGapMs} ms, redeliveries ${check.redeliveries} (of acknowledged messages: ${check.redeliveriesOfAcked})`,
    );
    expect(check).toMatchObject({ gaps: 0, payloadConflicts: 0, outOfOrder: 0 });
    expect(check.redeliveriesOfAcked).toBe(0);
    // The publisher keeps 64 publishes in flight through each hand-over: the old leader's and the
    // new one's share of them are stored in the order the client sent them.
    expect(subscriber.publishOrderViolations('m-', publisher.republished)).toBe(0);
  }, 240_000);
});
