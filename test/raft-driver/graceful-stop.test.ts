// Proves edges of the driver: a leader stopped gracefully hands leadership over (the new leader
// wins a transfer election, seen as a vote request with the transfer flag, one term up) to its
// most up-to-date voter, never a non-voter, and returns once that voter leads or the time is up;
// garbage arriving on the transport is dropped without stopping the node or the cluster.
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster } from './support/cluster.js';
import { SpyTransport } from './support/spies.js';
import type { Message } from '../../src/raft/messages.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const encoder = new TextEncoder();

describe('RaftDriver edges', () => {
  it('a leader stopping gracefully transfers leadership first', async () => {
    const spies = new Map<string, SpyTransport>();
    // Long election timeouts: a new leader inside the test's deadline comes from the transfer.
    const c = (cluster = await TestCluster.start({
      raft: { electionTicks: 200 },
      decorate: (id, _storage, transport) => {
        const spy = new SpyTransport(transport, () => cluster?.wake());
        spies.set(id, spy);
        return spy;
      },
    }));
    // Nobody campaigns for 4–8 s on its own; start the first election by hand.
    c.driver('a').campaign();
    const leader = await c.waitForLeader();
    await c.waitForApplied((await leader.propose(encoder.encode('before'))).index);
    const oldTerm = leader.term;
    await leader.stop({ transferLeadershipMs: 3000 });
    const next = await c.waitForLeader(3000);
    expect(next.id).not.toBe(leader.id);
    expect(next.term).toBe(oldTerm + 1);
    const transferVote = (m: Message): boolean => m.type === 'vote' && m.transfer && m.term === oldTerm + 1;
    expect(spies.get(next.id)!.sent.some(transferVote)).toBe(true);
    await next.propose(encoder.encode('after'));
  });

  it('hands over to the most up-to-date voter, never to a non-voter ahead of it, and returns once that voter leads', async () => {
    const spies = new Map<string, SpyTransport>();
    const c = (cluster = await TestCluster.start({
      raft: { electionTicks: 200 },
      decorate: (id, _storage, transport) => {
        const spy = new SpyTransport(transport, () => cluster?.wake());
        spies.set(id, spy);
        return spy;
      },
    }));
    c.driver('a').campaign();
    const leader = await c.waitForLeader();
    await c.waitForApplied(leader.status().lastIndex);
    const d = await c.startNode('d');
    await leader.addNode('d');
    // The voters stop hearing from the leader; the non-voter d receives an entry they lack.
    c.network.cut('a', 'b');
    c.network.cut('a', 'c');
    void leader.propose(encoder.encode('only on a and d')).catch(() => undefined);
    const last = leader.status().lastIndex;
    await c.waitUntil(() => leader.status().progress.get('d')?.match === last, 5000, 'd to acknowledge the entry');
    c.network.heal();
    const progress = leader.status().progress;
    expect(progress.get('b')!.match).toBeLessThan(last);
    expect(progress.get('c')!.match).toBeLessThan(last);
    await leader.stop({ transferLeadershipMs: 5000 });
    // stop() returned once the target led: no waiting needed here.
    expect(c.driver('b').role).toBe('leader');
    expect(spies.get('b')!.received.some((m) => m.type === 'timeoutNow')).toBe(true);
    expect(spies.get('d')!.received.some((m) => m.type === 'timeoutNow')).toBe(false);
    expect(d.status().config.nonVoters).toEqual(['d']);
  });

  it('stops after transferLeadershipMs when no voter can take over', async () => {
    const c = (cluster = await TestCluster.start({ raft: { electionTicks: 200 } }));
    c.driver('a').campaign();
    const leader = await c.waitForLeader();
    c.network.isolate('a', c.ids);
    const started = performance.now();
    await leader.stop({ transferLeadershipMs: 300 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(leader.isStopped).toBe(true);
    expect(c.running().every((driver) => driver.role !== 'leader')).toBe(true);
  });

  it('drops malformed messages without stopping', async () => {
    const c = (cluster = await TestCluster.start({ ids: ['a', 'b', 'c'] }));
    const leader = await c.waitForLeader();
    const rogue = c.network.connect('rogue');
    const garbage: unknown[] = [
      null,
      'text',
      42,
      { type: 'bogus', from: 'rogue', to: leader.id, term: 1 },
      { type: 'append', from: 'rogue', to: leader.id, term: -1, entries: 'none' },
      { type: 'append', from: 'someone-else', to: leader.id, term: leader.term },
      { type: 'heartbeat', from: 'rogue', to: 'not-me', term: leader.term, commit: 0 },
    ];
    for (const message of garbage) rogue.send(leader.id, message as Message);
    const { index } = await leader.propose(encoder.encode('still working'));
    await c.waitForApplied(index);
    expect(c.running().length).toBe(3);
    expect(leader.role).toBe('leader');
    await rogue.close();
  });
});
