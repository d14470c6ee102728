// Proves the Raft driver end to end: 3 in-process nodes with LevelDB storage (fsync on) on the
// in-memory transport elect a leader, replicate and commit proposals, survive a follower and then
// the leader being stopped and restarted (a far-behind node caught up by snapshot), and every
// node ends with the same log and the same applied entries, none of the acknowledged ones lost.
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster } from './support/cluster.js';
import type { RaftDriver } from '../../src/raft/driver.js';

let cluster: TestCluster | undefined;

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const encoder = new TextEncoder();

/** Proposes `count` payloads through `leader`; returns what was acknowledged, by index. */
async function proposeMany(leader: RaftDriver<number | undefined>, prefix: string, count: number): Promise<Map<number, string>> {
  const acknowledged = new Map<number, string>();
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const data = `${prefix}-${i}`;
      const { index } = await leader.propose(encoder.encode(data));
      acknowledged.set(index, data);
    }),
  );
  return acknowledged;
}

function expectConverged(c: TestCluster, acknowledged: Map<number, string>): void {
  const ids = c.ids;
  const reference = c.stateMachine(ids[0]!).records;
  for (const id of ids) {
    expect(c.stateMachine(id).records, `state machine of ${id}`).toEqual(reference);
  }
  const byIndex = new Map(reference.map((r) => [r.index, r.data]));
  for (const [index, data] of acknowledged) expect(byIndex.get(index), `acknowledged entry ${index}`).toBe(data);
  // Logs agree wherever two nodes both still hold an entry (Log Matching).
  const drivers = ids.map((id) => c.driver(id));
  const last = Math.min(...drivers.map((d) => d.status().lastIndex));
  for (let i = 0; i < drivers.length; i++) {
    for (let j = i + 1; j < drivers.length; j++) {
      const low = Math.max(drivers[i]!.status().firstIndex, drivers[j]!.status().firstIndex);
      const left = drivers[i]!.entriesBetween(low, last + 1)!.map((e) => [e.index, e.term]);
      const right = drivers[j]!.entriesBetween(low, last + 1)!.map((e) => [e.index, e.term]);
      expect(left).toEqual(right);
    }
  }
}

describe('RaftDriver with LevelDB on the in-memory transport', () => {
  it('elects, replicates, survives a stopped follower and a stopped leader, and converges', async () => {
    cluster = await TestCluster.start({ snapshotEveryEntries: 100, raft: { trailingLogs: 20 } });
    const c = cluster;
    const leader = await c.waitForLeader();
    const acknowledged = await proposeMany(leader, 'first', 150);
    expect(acknowledged.size).toBe(150);
    await c.waitForApplied(Math.max(...acknowledged.keys()));
    expectConverged(c, acknowledged);

    // A follower goes away; the other two still form a majority and commit.
    const follower = c.ids.find((id) => id !== leader.id)!;
    await c.stopNode(follower);
    for (const [index, data] of await proposeMany(leader, 'second', 300)) acknowledged.set(index, data);
    // It comes back far behind the leader's compacted log: caught up by snapshot, then entries.
    await c.startNode(follower);
    await c.waitForApplied(Math.max(...acknowledged.keys()));
    expect(c.stateMachine(follower).restores).toBeGreaterThan(0);
    expectConverged(c, acknowledged);

    // The leader goes away: the others elect a new one, which commits more.
    await c.stopNode(leader.id);
    const second = await c.waitForLeader();
    expect(second.id).not.toBe(leader.id);
    expect(second.term).toBeGreaterThan(leader.term);
    for (const [index, data] of await proposeMany(second, 'third', 100)) acknowledged.set(index, data);
    await c.startNode(leader.id);
    await c.waitForLeader();
    await c.waitForApplied(Math.max(...acknowledged.keys()));
    expectConverged(c, acknowledged);
    expect(c.stateMachine(c.ids[0]!).records.length).toBe(550);
  });

  it('restarts the whole cluster from disk with nothing committed lost', async () => {
    cluster = await TestCluster.start({ snapshotEveryEntries: 60 });
    const c = cluster;
    const acknowledged = await proposeMany(await c.waitForLeader(), 'before', 200);
    for (const id of c.ids) await c.stopNode(id);
    for (const id of c.ids) await c.startNode(id);
    const leader = await c.waitForLeader();
    for (const [index, data] of await proposeMany(leader, 'after', 50)) acknowledged.set(index, data);
    await c.waitForApplied(Math.max(...acknowledged.keys()));
    expectConverged(c, acknowledged);
    expect(c.stateMachine(c.ids[0]!).records.length).toBe(250);
  });

  it('group-commits: proposals made together share a handful of fsyncs', async () => {
    cluster = await TestCluster.start();
    const leader = await cluster.waitForLeader();
    await cluster.waitForApplied(leader.status().lastIndex);
    const before = leader.stats();
    const acknowledged = await proposeMany(leader, 'group', 400);
    const after = leader.stats();
    expect(after.proposalsCommitted - before.proposalsCommitted).toBe(400);
    expect(after.entriesPersisted - before.entriesPersisted).toBeGreaterThanOrEqual(400);
    // One Ready takes everything proposed in the same turn: far fewer fsyncs than entries.
    expect(after.syncs - before.syncs).toBeLessThanOrEqual(10);
    await cluster.waitForApplied(Math.max(...acknowledged.keys()));
    expectConverged(cluster, acknowledged);
  });

  it('runs with cluster_sync=false: no fsync at all, same replication', async () => {
    cluster = await TestCluster.start({ sync: false });
    const acknowledged = await proposeMany(await cluster.waitForLeader(), 'nosync', 100);
    await cluster.waitForApplied(Math.max(...acknowledged.keys()));
    expectConverged(cluster, acknowledged);
    for (const driver of cluster.running()) expect(driver.stats().syncs).toBe(0);
  });

  it('refuses proposals on a follower and after stop, with stable codes', async () => {
    cluster = await TestCluster.start();
    const leader = await cluster.waitForLeader();
    const follower = cluster.running().find((d) => d.id !== leader.id)!;
    await expect(follower.propose(encoder.encode('x'))).rejects.toMatchObject({ code: 'RAFT_NOT_LEADER' });
    await cluster.stopNode(leader.id);
    await expect(leader.propose(encoder.encode('x'))).rejects.toMatchObject({ code: 'RAFT_PROPOSAL_REFUSED', reason: 'stopped' });
  });
});
