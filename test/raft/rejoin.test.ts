// Proves the catch-up gate of a node started in rejoin mode (its disk was wiped), rule by rule on
// one core: no campaign and no vote until caught up, caught up only at an entry of the leader's
// own term, heartbeats that neither trip the commit assertion nor commit unknown entries, and a
// leader that forgets the stale match when told so. The simulator proves the whole (sim.test.ts).
import { describe, expect, it } from 'vitest';
import { RaftNode } from '../../src/raft/node.js';
import { MemoryStorage } from '../../src/raft/storage.js';
import { EntryType } from '../../src/raft/types.js';
import { encodeConfig } from '../../src/raft/membership.js';
import type { Message } from '../../src/raft/messages.js';
import { drain, electLeader, entry, ofType } from './helpers.js';
import { Rng } from './sim/rng.js';

const config = { type: EntryType.ConfigChange, data: encodeConfig({ voters: ['n1', 'n2', 'n3'], nonVoters: [] }) };

/** n1 in rejoin mode, optionally with what it had fetched before a restart (still gated). */
function rejoiningNode(withConfig = false): { node: RaftNode; storage: MemoryStorage } {
  const storage = new MemoryStorage();
  if (withConfig) storage.append([{ index: 1, term: 1, ...config }]);
  const node = new RaftNode({ id: 'n1', storage, random: new Rng(3), rejoining: true });
  return { node, storage };
}

function append(term: number, prevIndex: number, prevTerm: number, entries: ReturnType<typeof entry>[], commit: number): Message {
  return { type: 'append', from: 'n2', to: 'n1', term, prevIndex, prevTerm, entries, commit };
}

describe('a node in rejoin mode', () => {
  it('never campaigns while catching up, even as a voter whose election timeout ran out many times', () => {
    const { node, storage } = rejoiningNode(true);
    expect(node.status().config.voters).toContain('n1');
    for (let tick = 0; tick < 100; tick++) node.tick();
    expect(node.role).toBe('follower');
    expect(drain(node, storage).messages).toEqual([]);
    expect(node.status().counters).toEqual({ preElectionsStarted: 0, electionsStarted: 0 });
  });

  it('refuses Vote and PreVote requests while catching up, and records no vote', () => {
    const { node, storage } = rejoiningNode(true);
    node.step({ type: 'preVote', from: 'n2', to: 'n1', term: 6, lastIndex: 9, lastTerm: 5 });
    node.step({ type: 'vote', from: 'n3', to: 'n1', term: 7, lastIndex: 9, lastTerm: 5, transfer: false });
    const { messages, readies } = drain(node, storage);
    expect(messages.map((m) => [m.type, (m as { reject?: boolean }).reject])).toEqual([
      ['preVoteResponse', true],
      ['voteResponse', true],
    ]);
    expect(readies.every((ready) => (ready.hardState?.vote ?? '') === '')).toBe(true);
  });

  it('opens its gate only once it holds a committed entry of the leader term, not at a commit index of earlier terms', () => {
    const { node, storage } = rejoiningNode();
    // A new leader of term 3 whose commit index (2) still lags: its term has nothing committed.
    node.step(append(3, 0, 0, [{ ...entry(1, 1), ...config }, entry(2, 2), entry(3, 2)], 2));
    drain(node, storage);
    expect(node.commit).toBe(2);
    expect(node.catchingUp).toBe(true);
    node.step(append(3, 3, 2, [entry(4, 3)], 4));
    drain(node, storage);
    expect(node.catchingUp).toBe(false);
    // Now it votes like any node, once its leader lease has run out.
    for (let tick = 0; tick < 10; tick++) node.tick();
    drain(node, storage);
    node.step({ type: 'preVote', from: 'n3', to: 'n1', term: 4, lastIndex: 4, lastTerm: 3 });
    expect(ofType(drain(node, storage).messages, 'preVoteResponse')[0]?.reject).toBe(false);
  });

  it('waits for the highest commit index a leader reported, not only the first', () => {
    const { node, storage } = rejoiningNode();
    node.step(append(2, 0, 0, [{ ...entry(1, 1), ...config }, entry(2, 2)], 1));
    // Before the entries that carry it arrive, the leader reports commit 5 in a heartbeat.
    node.step({ type: 'heartbeat', from: 'n2', to: 'n1', term: 2, commit: 5 });
    node.step(append(2, 1, 1, [entry(2, 2)], 2));
    drain(node, storage);
    expect(node.commit).toBe(2);
    expect(node.catchingUp).toBe(true);
    node.step(append(2, 2, 2, [entry(3, 2), entry(4, 2), entry(5, 2)], 5));
    drain(node, storage);
    expect(node.catchingUp).toBe(false);
    expect(node.status().leaderCommit).toBe(5);
  });

  it('takes a heartbeat commit beyond its log without tripping the assertion, commits none of it, and tells the leader', () => {
    const { node, storage } = rejoiningNode();
    node.step({ type: 'heartbeat', from: 'n2', to: 'n1', term: 4, commit: 90 });
    const { messages } = drain(node, storage);
    expect(node.commit).toBe(0);
    expect(ofType(messages, 'appendResponse')).toEqual([
      { type: 'appendResponse', from: 'n1', to: 'n2', term: 4, index: 0, reject: true, hintIndex: 0, hintTerm: 0 },
    ]);
    expect(ofType(messages, 'heartbeatResponse')).toHaveLength(1);
  });

  it('commits from heartbeats only what matches the current leader', () => {
    const { node, storage } = rejoiningNode();
    node.step(append(2, 0, 0, [{ ...entry(1, 1), ...config }, entry(2, 2), entry(3, 2)], 1));
    node.step({ type: 'heartbeat', from: 'n2', to: 'n1', term: 2, commit: 3 });
    drain(node, storage);
    expect(node.commit).toBe(3);
    // A new leader of term 3 has not confirmed any of it yet: its heartbeat commits nothing more.
    node.step({ type: 'heartbeat', from: 'n3', to: 'n1', term: 3, commit: 3 });
    const { messages } = drain(node, storage);
    expect(node.commit).toBe(3);
    expect(ofType(messages, 'appendResponse')[0]).toMatchObject({ index: 0, reject: true, hintIndex: 3, hintTerm: 2 });
  });
});

describe('a leader told that a follower lost its log', () => {
  it('forgets the follower match and probes it from its hint', () => {
    const { node, storage } = electLeader();
    node.propose(new TextEncoder().encode('x'));
    drain(node, storage);
    node.step({ type: 'appendResponse', from: 'n2', to: 'n1', term: 2, index: 3, reject: false, hintIndex: 0, hintTerm: 0 });
    drain(node, storage);
    expect(node.status().progress.get('n2')?.match).toBe(3);
    node.step({ type: 'appendResponse', from: 'n2', to: 'n1', term: 2, index: 0, reject: true, hintIndex: 0, hintTerm: 0 });
    const { messages } = drain(node, storage);
    expect(node.status().progress.get('n2')).toMatchObject({ match: 0, state: 'probe' });
    expect(ofType(messages, 'append').find((m) => m.to === 'n2')).toMatchObject({ prevIndex: 0, prevTerm: 0 });
    expect(ofType(messages, 'heartbeat')).toEqual([]);
    // Commitment no longer counts n2's old acknowledgements: n3 alone is needed now.
    expect(node.commit).toBe(3);
  });

  it('ignores it when it knows no match to forget (a duplicate, after the reset)', () => {
    const { node, storage } = electLeader();
    node.step({ type: 'appendResponse', from: 'n2', to: 'n1', term: 2, index: 0, reject: true, hintIndex: 0, hintTerm: 0 });
    expect(drain(node, storage).messages).toEqual([]);
  });
});
