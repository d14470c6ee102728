// Proves a 3-node tstan cluster loses no acknowledged message when its leader dies or freezes:
// real processes, node-nats-streaming clients on followers. 20,000 async publishes (republished
// when unacknowledged) while a durable subscriber with manual acks reads; mid-stream the leader
// is killed with SIGKILL and restarted (or stopped with SIGSTOP for longer than an election
// timeout, then continued). Every acknowledged payload is delivered, sequences are gapless and
// first deliveries in order, no sequence ever shows two payloads, and every node's state ends
// identical. Redeliveries, the new-leader time and the longest gap between acks are printed.
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster } from './support/cluster.js';
import { Publisher, Subscriber, connect } from './support/workload.js';
import type { StanSession } from '../jepsen-like/stan-client.js';

const TOTAL = 20_000;

describe('3-node cluster, leader faults under load', () => {
  let cluster: TestCluster | undefined;
  const sessions: StanSession[] = [];
  afterEach(async () => {
    for (const session of sessions.splice(0)) session.close();
    await cluster?.stop();
    cluster = undefined;
  });

  async function runScenario(fault: 'kill' | 'pause'): Promise<void> {
    cluster = await TestCluster.create({ size: 3 });
    await cluster.startAll();
    const leader = await cluster.leader();
    const followers = [...cluster.nodes.keys()].filter((id) => id !== leader);
    const pubSession = await connect(cluster.node(followers[0]!).url, 'publisher');
    const subSession = await connect(cluster.node(followers[1]!).url, 'subscriber');
    sessions.push(pubSession, subSession);
    const subscriber = await Subscriber.start(subSession, 'orders', 'dur');
    const publisher = new Publisher(pubSession, 'orders', TOTAL, 512);
    const done = publisher.run();

    await publisher.reached(TOTAL / 4);
    const faultAt = Date.now();
    const victim = cluster.node(leader);
    if (fault === 'kill') victim.signal('SIGKILL');
    else victim.signal('SIGSTOP');
    const newLeader = await cluster.leader(30_000, [leader]);
    const electedMs = Date.now() - faultAt;
    if (fault === 'kill') {
      await victim.waitExit();
      await victim.start(60_000);
    } else {
      victim.signal('SIGCONT');
    }
    await done;
    await subscriber.received(publisher.acked, 60_000);
    const result = subscriber.check();
    console.log(
      `${fault}: new leader ${newLeader} after ${electedMs} ms; acked ${publisher.acked.size}, republished ${publisher.stats.retried}, ` +
        `longest gap between acks ${publisher.stats.longestAckGapMs} ms, delivered ${subscriber.deliveries.length} ` +
        `(${result.redeliveries} redeliveries)`,
    );
    expect(result.payloadConflicts).toBe(0);
    expect(result.gaps).toBe(0);
    expect(result.outOfOrder).toBe(0);
    for (const value of publisher.acked) expect(subscriber.values().has(value)).toBe(true);

    // Every node converges on the same state: records and message content.
    const digests = await cluster.digestsAfterConvergence(30_000);
    expect(new Set(digests.values()).size, JSON.stringify([...digests])).toBe(1);
    for (const [id, lines] of cluster.errorLines()) expect(lines, `error lines of ${id}`).toEqual([]);
  }

  it('a leader killed with SIGKILL mid-stream and restarted loses nothing acknowledged', async () => {
    await runScenario('kill');
  }, 180_000);

  it('a leader stopped with SIGSTOP beyond an election timeout loses nothing acknowledged', async () => {
    await runScenario('pause');
  }, 180_000);
});
