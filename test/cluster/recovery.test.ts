// Proves a tstan cluster recovers by itself, with nobody wiping anything:
// - all three nodes killed at once (SIGKILL) and restarted: the cluster elects, serves, and still
//   holds every acknowledged message (the reference wedges here on snapshot restore);
// - a follower whose disk is wiped rejoins while the leader has compacted its log past what the
//   follower would need: it installs a snapshot, fetches the messages from its peers, catches up
//   (it never votes before that), and then the leader is killed: nothing acknowledged is lost.
// Real processes, node-nats-streaming clients.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster, type ClusterNodeView } from './support/cluster.js';
import { Subscriber, connect, publishAll } from './support/workload.js';
import type { StanSession } from '../jepsen-like/stan-client.js';

describe('cluster recovery', () => {
  let cluster: TestCluster | undefined;
  const sessions: StanSession[] = [];
  afterEach(async () => {
    for (const session of sessions.splice(0)) session.close();
    await cluster?.stop();
    cluster = undefined;
  });


  it('restarts after every node was killed at once, serving every acknowledged message', async () => {
    cluster = await TestCluster.create({ size: 3 });
    await cluster.startAll();
    const first = await cluster.leader();
    const acked = await publishAll(cluster.node(first).url, 'before', 3_000, 'before-');
    for (const node of cluster.nodes.values()) node.signal('SIGKILL');
    for (const node of cluster.nodes.values()) await node.waitExit();
    await cluster.startAll();
    const leader = await cluster.leader(60_000);
    const more = await publishAll(cluster.node(leader).url, 'after', 1_000, 'after-');
    const reader = await connect(cluster.node(leader).url, 'reader');
    sessions.push(reader);
    const subscriber = await Subscriber.start(reader, 'orders', 'all');
    await subscriber.received(new Set([...acked, ...more]), 60_000);
    const check = subscriber.check();
    expect(check.gaps).toBe(0);
    expect(check.payloadConflicts).toBe(0);
    const digests = await cluster.digestsAfterConvergence();
    expect(new Set(digests.values()).size).toBe(1);
    // The Raft state is on /metrics too.
    const metrics = await (await fetch(`${cluster.node(leader).monitorUrl}/metrics`)).text();
    expect(metrics).toContain('tstan_raft_role{role="leader"} 1');
    expect(metrics).toMatch(/tstan_raft_term [1-9]/);
    expect(metrics).toMatch(/tstan_raft_peer_lag\{peer="[a-c]"\} \d+/);
    for (const id of cluster.nodes.keys()) expect((await fetch(`${cluster.node(id).monitorUrl}/readyz`)).status).toBe(200);
  }, 180_000);

  it('refuses to start a node whose store survived while its Raft log is gone, naming both paths', async () => {
    cluster = await TestCluster.create({ size: 3 });
    await cluster.startAll();
    const leader = await cluster.leader();
    await publishAll(cluster.node(leader).url, 'p', 100, 'x-');
    await cluster.appliedEverywhere((await cluster.view(leader))!.commit);
    const victim = [...cluster.nodes.keys()].find((id) => id !== leader)!;
    await cluster.node(victim).stop();
    const logPath = cluster.removeRaftLog(victim);
    await expect(cluster.node(victim).start(30_000)).rejects.toThrow(/exited at start/);
    const log = readFileSync(cluster.node(victim).logFile, 'utf8');
    expect(log).toContain(`the cluster log path "${logPath}" is empty`);
    expect(log).toContain(cluster.dataDir(victim));
  }, 120_000);

  it('a wiped follower rejoins by snapshot and message fetch, never votes before it caught up, and then the leader may die', async () => {
    cluster = await TestCluster.create({ size: 3, args: ['--cluster_trailing_logs', '2'] });
    await cluster.startAll();
    const leader = await cluster.leader();
    const victim = [...cluster.nodes.keys()].find((id) => id !== leader)!;
    const acked = await publishAll(cluster.node(leader).url, 'p1', 2_000, 'one-');
    // The victim goes away; its disk is lost.
    cluster.node(victim).signal('SIGKILL');
    await cluster.node(victim).waitExit();
    cluster.wipe(victim);
    // Meanwhile the others move on and compact their logs past everything the victim had.
    for (const id of cluster.nodes.keys()) if (id !== victim) await cluster.snapshot(id);
    for (const value of await publishAll(cluster.node(leader).url, 'p2', 1_000, 'two-')) acked.add(value);
    for (const id of cluster.nodes.keys()) if (id !== victim) await cluster.snapshot(id);
    // The compaction follows the snapshot on the node's next Raft round.
    const leaderView = await cluster.until(leader, (v) => v.first_index > 1);

    await cluster.node(victim).start(60_000);
    const caughtUp: ClusterNodeView = await cluster.until(victim, (v) => v.ready && v.applied >= leaderView.commit, 60_000);
    expect(caughtUp.snapshots_restored).toBeGreaterThanOrEqual(1);
    expect(caughtUp.messages_fetched).toBeGreaterThan(0);
    expect(caughtUp.counters.electionsStarted).toBe(0);

    // The node that had everything dies; what was acknowledged must survive on the other two.
    cluster.node(leader).signal('SIGKILL');
    const next = await cluster.leader(30_000, [leader]);
    for (const value of await publishAll(cluster.node(next).url, 'p3', 500, 'three-')) acked.add(value);
    const reader = await connect(cluster.node(next).url, 'reader');
    sessions.push(reader);
    const subscriber = await Subscriber.start(reader, 'orders', 'all');
    await subscriber.received(acked, 60_000);
    expect(subscriber.check()).toMatchObject({ gaps: 0, payloadConflicts: 0 });
    const digests = await cluster.digestsAfterConvergence();
    expect(new Set(digests.values()).size).toBe(1);
  }, 240_000);
});
