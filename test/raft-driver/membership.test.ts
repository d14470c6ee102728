// Proves membership through the driver over LevelDB and the in-memory transport: addNode joins
// an empty node as a non-voter and resolves once the change is applied, the leader promotes it
// by itself once caught up (promoteNonVoters), removeNode takes a member out (the leader too,
// which steps down and hands over), and refusals carry clear codes.
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster } from './support/cluster.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const encoder = new TextEncoder();

describe('membership through the driver', () => {
  it('adds an empty node as a non-voter, promotes it once caught up, and removes a voter', async () => {
    const c = (cluster = await TestCluster.start({ raft: { promoteNonVoters: true } }));
    const leader = await c.waitForLeader();
    await leader.propose(encoder.encode('before d'));
    const d = await c.startNode('d');
    const added = await leader.addNode('d');
    expect(added.config).toEqual({ voters: ['a', 'b', 'c'], nonVoters: ['d'] });
    await c.waitUntil(() => leader.status().config.voters.includes('d'), 10_000, 'the leader to promote d');
    await c.waitUntil(() => d.status().config.voters.includes('d'), 10_000, 'd to learn it votes');
    expect(d.status().leader).toBe(leader.id);
    // One change at a time: the promotion commits before the next change may start.
    await c.waitForApplied(leader.status().lastIndex);
    const victim = c.ids.find((id) => id !== leader.id)!;
    const removed = await leader.removeNode(victim);
    expect(removed.config.voters).not.toContain(victim);
    expect(removed.config.voters).toContain('d');
    // Four voters left, the leader commits with them.
    const { index } = await leader.propose(encoder.encode('after'));
    await c.waitUntil(() => d.appliedIndex >= index, 10_000, 'd to apply the entry after the removal');
  });

  it('refuses with clear codes: not leader, already a member, unknown node, a change in progress', async () => {
    const c = (cluster = await TestCluster.start());
    const leader = await c.waitForLeader();
    await c.waitForApplied(leader.status().lastIndex);
    const follower = c.running().find((driver) => driver.id !== leader.id)!;
    await expect(follower.addNode('d')).rejects.toMatchObject({ code: 'RAFT_NOT_LEADER', leader: leader.id });
    await expect(leader.addNode(follower.id)).rejects.toMatchObject({ code: 'RAFT_BAD_CONFIG_CHANGE' });
    await expect(leader.addNode('not.an.id')).rejects.toMatchObject({ code: 'RAFT_BAD_CONFIG_CHANGE' });
    await expect(leader.removeNode('nobody')).rejects.toMatchObject({ code: 'RAFT_UNKNOWN_NODE' });
    await expect(leader.promoteNode(follower.id)).rejects.toMatchObject({ code: 'RAFT_BAD_CONFIG_CHANGE' });
    const first = leader.addNode('d');
    await expect(leader.addNode('e')).rejects.toMatchObject({ code: 'RAFT_CONFIG_CHANGE_PENDING' });
    // d never started: it cannot catch up, so it cannot be promoted.
    await first;
    await expect(leader.promoteNode('d')).rejects.toMatchObject({ code: 'RAFT_NOT_CAUGHT_UP' });
  });

  it('a leader removing itself resolves, steps down, and another voter leads', async () => {
    const c = (cluster = await TestCluster.start());
    const leader = await c.waitForLeader();
    // A new leader changes membership only once an entry of its term is committed.
    await c.waitForApplied(leader.status().lastIndex);
    const oldTerm = leader.term;
    const removed = await leader.removeNode(leader.id);
    expect(removed.config.voters).not.toContain(leader.id);
    expect(leader.role).not.toBe('leader');
    await c.stopNode(leader.id);
    const next = await c.waitForLeader();
    expect(next.term).toBeGreaterThan(oldTerm);
    expect(next.status().config.voters).toHaveLength(2);
    await next.propose(encoder.encode('two voters left'));
  });
});
