// Proves the driver's status for readiness probes and a cluster view, and the rejoin flow the
// application's startup uses after a lost disk: a node restarted empty in rejoin mode reports
// that it is catching up, is fed a snapshot and the log, and becomes ready and a voter again.
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster } from './support/cluster.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const encoder = new TextEncoder();

describe('driver status', () => {
  it('tells readiness (a known leader, applied up to the commit heard from it) and the leader view of its peers', async () => {
    const c = (cluster = await TestCluster.start());
    const leader = await c.waitForLeader();
    let last = 0;
    for (let i = 0; i < 5; i++) last = (await leader.propose(encoder.encode(`p${i}`))).index;
    await c.waitForApplied(last);
    const status = leader.status();
    expect(status).toMatchObject({ role: 'leader', leader: leader.id, commit: last, applied: last, leaderCommit: last, caughtUp: true, catchingUp: false });
    expect(status.peers.map((peer) => [peer.voter, peer.state])).toEqual([
      [true, 'replicate'],
      [true, 'replicate'],
    ]);
    await c.waitUntil(() => leader.status().peers.every((peer) => peer.lag === 0 && peer.match === last), 5000, 'peers to acknowledge');
    expect(status.counters.electionsStarted + status.counters.preElectionsStarted).toBeGreaterThanOrEqual(1);
    expect(status.counters.leadershipChanges).toBe(1);
    expect(status.counters.syncs).toBeGreaterThan(0);
    expect(status.counters.syncsPerAppliedEntry).toBeGreaterThan(0);
    expect(status.snapshot).toEqual({ lastIndex: 0, taking: false, sending: [], installing: false });

    const follower = c.running().find((driver) => driver.id !== leader.id)!;
    await c.waitUntil(() => follower.status().leaderCommit >= last, 5000, 'the follower to hear the commit');
    expect(follower.status()).toMatchObject({ role: 'follower', leader: leader.id, caughtUp: true, peers: [] });
    // Cut off, it stops following anyone once its election timeout passes: not ready any more.
    c.network.isolate(follower.id, c.ids);
    await c.waitUntil(() => follower.leader === '', 10_000, 'the follower to give up on its leader');
    expect(follower.status().caughtUp).toBe(false);
  });

  it('a node restarted with a wiped disk in rejoin mode catches up behind its gate, then is ready', async () => {
    const c = (cluster = await TestCluster.start({ snapshotEveryEntries: 10, raft: { trailingLogs: 3 } }));
    const leader = await c.waitForLeader();
    const victim = c.ids.find((id) => id !== leader.id)!;
    let last = 0;
    for (let i = 0; i < 30; i++) last = (await leader.propose(encoder.encode(`p${i}`))).index;
    await c.waitForApplied(last);
    await c.stopNode(victim);
    const rejoined = await c.startNode(victim, { wipe: true, rejoining: true });
    expect(rejoined.status()).toMatchObject({ catchingUp: true, caughtUp: false, lastIndex: 0, term: 0 });
    await c.waitUntil(() => !rejoined.status().catchingUp, 10_000, 'the rejoined node to catch up');
    await c.waitUntil(() => rejoined.status().caughtUp, 10_000, 'the rejoined node to be ready');
    const status = rejoined.status();
    expect(status.counters.snapshotsInstalled).toBe(1);
    expect(status.config.voters).toContain(victim);
    expect(c.stateMachine(victim).records).toEqual(c.stateMachine(leader.id).records);
    // A voter again: with the third node gone, the two of them still commit.
    await c.stopNode(c.ids.find((id) => id !== leader.id && id !== victim)!);
    const { index } = await leader.propose(encoder.encode('with the rejoined node'));
    await c.waitForApplied(index);
  });
});
