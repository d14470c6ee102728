// Proves that an existing standalone FILE data directory becomes the first node of a cluster
// (the reference refuses this): a standalone tstan takes publishes and a durable subscription that
// acknowledges only part of them; restarted with --clustered --cluster_bootstrap on the same
// directory it leads a cluster of one, two fresh nodes join it, install its state as a snapshot
// and fetch its messages, and the durable resumes through another node exactly where it was.
// Real processes, node-nats-streaming.
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';
import { TstanNode } from '../jepsen-like/tstan-node.js';
import { TestCluster } from './support/cluster.js';
import { connect, publishAll } from './support/workload.js';
import type { Delivery, StanSession } from '../jepsen-like/stan-client.js';

describe('a standalone store becomes a cluster', () => {
  let cluster: TestCluster | undefined;
  let solo: TstanNode | undefined;
  const sessions: StanSession[] = [];
  afterEach(async () => {
    for (const session of sessions.splice(0)) session.close();
    await solo?.stop();
    await cluster?.stop();
  });

  it('keeps every message and the durable position, and the joiners catch up from it', async () => {
    cluster = await TestCluster.create({ size: 0 });
    solo = new TstanNode({
      name: 'solo', clusterId: cluster.clusterId, dataDir: cluster.dataDir('a'), runDir: cluster.runDir,
      port: await freePort(), httpPort: await freePort(),
    });
    await solo.start();
    const acked = await publishAll(solo.url, 'writer', 300, 'm-');
    // A durable that takes 100 messages and acknowledges the first 60.
    const reader = await connect(solo.url, 'reader');
    const got: Delivery[] = [];
    const first = await reader.subscribe('orders', { durableName: 'dur', maxInFlight: 100, ackWaitMs: 60_000, manualAcks: true }, (d) => got.push(d));
    await until(() => got.length === 100, 'the first 100 deliveries');
    for (const delivery of got.slice(0, 60)) delivery.ack();
    // The 60 acks make room for 60 more: 61..160 are then pending.
    await until(() => got.length === 160, 'the next 60 deliveries');
    await untilAsync(async () => (await pendingOf(solo!, 'orders')) === 100, 'the server to hold 100 pending');
    first.close();
    reader.close();
    await solo.stop();
    solo = undefined;

    await (await cluster.addNodeSpec('a', [], [], ['--cluster_bootstrap'])).start(60_000);
    await cluster.leader();
    for (const id of ['b', 'c']) await (await cluster.addNodeSpec(id, [], [])).start(60_000);
    await cluster.until('a', (v) => v.voters.length === 3 && v.non_voters.length === 0, 60_000);
    const digests = await cluster.digestsAfterConvergence();
    expect(new Set(digests.values()).size).toBe(1);
    expect((await cluster.view('b'))!.messages_fetched).toBeGreaterThan(0);

    // The durable resumes through another node: the 100 it left unacknowledged, then the rest.
    const resumed = await connect(cluster.node('b').url, 'reader');
    sessions.push(resumed);
    const seen = new Map<number, string>();
    await resumed.subscribe('orders', { durableName: 'dur', maxInFlight: 500, ackWaitMs: 60_000, manualAcks: true }, (d) => {
      seen.set(d.seq, d.value);
      d.ack();
    });
    await until(() => seen.size >= 240, 'the rest of the messages');
    expect([...seen.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: 240 }, (_, i) => i + 61));
    for (const [seq, value] of seen) expect(acked.has(value), `sequence ${seq}`).toBe(true);
  }, 180_000);
});

async function pendingOf(node: TstanNode, channel: string): Promise<number> {
  const response = await fetch(`${node.monitorUrl}/streaming/channelsz?channel=${channel}&subs=1`);
  const body = (await response.json()) as { subscriptions?: Array<{ pending_count: number }> };
  return body.subscriptions?.[0]?.pending_count ?? -1;
}

async function untilAsync(predicate: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function until(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
