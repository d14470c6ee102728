// Proves the core follows the rules of the Raft paper (§5.1–5.4), one test per sentence, in
// the manner of etcd's raft_paper_test.go, plus the durability contract of Ready.
import { describe, expect, it } from 'vitest';
import { RaftNode } from '../../src/raft/node.js';
import { MemoryStorage } from '../../src/raft/storage.js';
import { drain, electLeader, entry, makeNode, ofType } from './helpers.js';
import { Rng } from './sim/rng.js';

describe('§5.1 terms', () => {
  it('"if one server’s current term is smaller than the other’s, then it updates its current term to the larger value"', () => {
    const { node, storage } = makeNode({ term: 2 });
    node.step({ type: 'heartbeat', from: 'n2', to: 'n1', term: 5, commit: 1 });
    expect(node.term).toBe(5);
    expect(node.leader).toBe('n2');
    expect(drain(node, storage).readies[0]?.hardState?.term).toBe(5);
  });

  it('"if a candidate or leader discovers that its term is out of date, it immediately reverts to follower state"', () => {
    const { node, storage } = electLeader();
    expect(node.role).toBe('leader');
    node.step({ type: 'append', from: 'n2', to: 'n1', term: 3, prevIndex: 2, prevTerm: 2, entries: [], commit: 1 });
    expect(node.role).toBe('follower');
    expect(node.term).toBe(3);
    drain(node, storage);
  });

  it('"if a server receives a request with a stale term number, it rejects the request"', () => {
    const { node, storage } = makeNode({ term: 4 });
    node.step({ type: 'append', from: 'n2', to: 'n1', term: 3, prevIndex: 1, prevTerm: 1, entries: [entry(2, 3)], commit: 1 });
    const { messages } = drain(node, storage);
    expect(node.status().lastIndex).toBe(1);
    // The stale leader is told the newer term, so that it steps down.
    expect(messages).toEqual([{ type: 'heartbeatResponse', from: 'n1', to: 'n2', term: 4 }]);
  });
});

describe('§5.2 leader election', () => {
  it('"if a follower receives no communication over a period of time called the election timeout, then it ... begins an election"', () => {
    const { node, storage } = makeNode({ term: 1 });
    for (let tick = 0; tick < 21 && node.role === 'follower'; tick++) node.tick();
    expect(node.role).toBe('candidate');
    expect(node.term).toBe(2);
    const { messages } = drain(node, storage);
    expect(ofType(messages, 'vote').map((m) => [m.to, m.term])).toEqual([['n2', 2], ['n3', 2]]);
    expect(storage.initialState().hardState).toMatchObject({ term: 2, vote: 'n1' });
  });

  it('"election timeouts are chosen randomly from a fixed interval" (10–20 ticks)', () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 200; seed++) {
      const storage = new MemoryStorage();
      storage.append([{ index: 1, term: 1, type: 1, data: new TextEncoder().encode('{"voters":["a","b","c"],"nonVoters":[]}') }]);
      const node = new RaftNode({ id: 'a', storage, random: new Rng(seed), preVote: false });
      let ticks = 0;
      while (node.role === 'follower' && ticks < 100) {
        node.tick();
        ticks++;
      }
      seen.add(ticks);
    }
    expect(Math.min(...seen)).toBe(10);
    expect(Math.max(...seen)).toBe(20);
    expect(seen.size).toBe(11);
  });

  it('"a candidate wins an election if it receives votes from a majority of the servers"', () => {
    const cases: { voters: string[]; grants: string[]; rejects: string[]; role: string }[] = [
      { voters: ['n1', 'n2', 'n3'], grants: ['n2'], rejects: [], role: 'leader' },
      { voters: ['n1', 'n2', 'n3'], grants: [], rejects: ['n2'], role: 'candidate' },
      { voters: ['n1', 'n2', 'n3'], grants: [], rejects: ['n2', 'n3'], role: 'follower' },
      { voters: ['n1', 'n2', 'n3', 'n4', 'n5'], grants: ['n2'], rejects: [], role: 'candidate' },
      { voters: ['n1', 'n2', 'n3', 'n4', 'n5'], grants: ['n2', 'n3'], rejects: ['n4'], role: 'leader' },
      { voters: ['n1', 'n2', 'n3', 'n4', 'n5'], grants: ['n2'], rejects: ['n3', 'n4', 'n5'], role: 'follower' },
    ];
    for (const c of cases) {
      const { node, storage } = makeNode({ voters: c.voters });
      node.campaign();
      drain(node, storage);
      for (const from of c.grants) node.step({ type: 'voteResponse', from, to: 'n1', term: 2, reject: false });
      for (const from of c.rejects) node.step({ type: 'voteResponse', from, to: 'n1', term: 2, reject: true });
      expect(node.role, JSON.stringify(c)).toBe(c.role);
    }
  });

  it('"each server will vote for at most one candidate in a given term, on a first-come-first-served basis"', () => {
    const { node, storage } = makeNode({ term: 1 });
    node.step({ type: 'vote', from: 'n2', to: 'n1', term: 2, lastIndex: 1, lastTerm: 1, transfer: false });
    node.step({ type: 'vote', from: 'n3', to: 'n1', term: 2, lastIndex: 1, lastTerm: 1, transfer: false });
    node.step({ type: 'vote', from: 'n2', to: 'n1', term: 2, lastIndex: 1, lastTerm: 1, transfer: false });
    const responses = ofType(drain(node, storage).messages, 'voteResponse');
    expect(responses.map((m) => [m.to, m.reject])).toEqual([['n2', false], ['n3', true], ['n2', false]]);
    expect(storage.initialState().hardState.vote).toBe('n2');
  });

  it('"if the leader’s term is at least as large as the candidate’s current term, then the candidate recognizes the leader as legitimate and returns to follower state"', () => {
    const { node, storage } = makeNode();
    node.campaign();
    drain(node, storage);
    expect(node.role).toBe('candidate');
    node.step({ type: 'heartbeat', from: 'n3', to: 'n1', term: 2, commit: 1 });
    expect(node.role).toBe('follower');
    expect(node.leader).toBe('n3');
  });

  it('"leaders send periodic heartbeats ... to all followers in order to maintain their authority"', () => {
    const { node, storage } = electLeader();
    node.tick();
    const heartbeats = ofType(drain(node, storage).messages, 'heartbeat');
    expect(heartbeats.map((m) => m.to).sort()).toEqual(['n2', 'n3']);
  });
});

describe('§5.3 log replication', () => {
  it('"the leader appends the command to its log as a new entry, then issues AppendEntries RPCs in parallel"', () => {
    const { node, storage } = electLeader();
    // Followers that acknowledged the leader's no-op move from probing to replicating.
    for (const from of ['n2', 'n3']) {
      node.step({ type: 'appendResponse', from, to: 'n1', term: 2, index: 2, reject: false, hintIndex: 0, hintTerm: 0 });
    }
    drain(node, storage);
    const index = node.propose(new TextEncoder().encode('x'));
    const ready = node.ready();
    expect(ready.entries.map((e) => e.index)).toEqual([index]);
    // Thesis §10.2.1: the appends may leave while the leader's own write is still in flight.
    expect(ofType(ready.messages, 'append').map((m) => m.to).sort()).toEqual(['n2', 'n3']);
    expect(ready.messagesAfterPersist).toEqual([]);
  });

  it('"a log entry is committed once the leader that created the entry has replicated it on a majority of the servers"', () => {
    const { node, storage } = electLeader();
    const index = node.propose(new TextEncoder().encode('x'));
    drain(node, storage);
    expect(node.commit).toBeLessThan(index);
    node.step({ type: 'appendResponse', from: 'n2', to: 'n1', term: 2, index, reject: false, hintIndex: 0, hintTerm: 0 });
    expect(node.commit).toBe(index);
    expect(drain(node, storage).applied.map((e) => e.index)).toContain(index);
  });

  it('the leader counts itself toward a commit only once its own write is durable', () => {
    const { node, storage } = electLeader();
    const index = node.propose(new TextEncoder().encode('x'));
    const ready = node.ready();
    node.step({ type: 'appendResponse', from: 'n2', to: 'n1', term: 2, index, reject: false, hintIndex: 0, hintTerm: 0 });
    // n2 alone is not a majority of three: the leader's own copy is not durable yet.
    expect(node.commit).toBeLessThan(index);
    storage.append(ready.entries);
    if (ready.hardState) storage.setHardState(ready.hardState);
    node.advance();
    expect(node.commit).toBe(index);
  });

  it('"if the follower does not find an entry in its log with the same index and term, then it refuses the new entries"', () => {
    const { node, storage } = makeNode({ terms: [1, 2], term: 3 });
    node.step({ type: 'append', from: 'n2', to: 'n1', term: 3, prevIndex: 3, prevTerm: 3, entries: [entry(4, 3)], commit: 1 });
    const [response] = ofType(drain(node, storage).messages, 'appendResponse');
    expect(response).toMatchObject({ reject: true, index: 3, hintIndex: 3, hintTerm: 2 });
  });

  it('"if an existing entry conflicts with a new one (same index but different terms), delete the existing entry and all that follow it"', () => {
    const { node, storage } = makeNode({ terms: [1, 2, 2], term: 3 });
    node.step({ type: 'append', from: 'n2', to: 'n1', term: 3, prevIndex: 2, prevTerm: 1, entries: [entry(3, 3)], commit: 1 });
    const { messages } = drain(node, storage);
    expect(ofType(messages, 'appendResponse')[0]).toMatchObject({ reject: false, index: 3 });
    expect(storage.allEntries().map((e) => e.term)).toEqual([1, 1, 3]);
  });

  it('a follower acknowledges appended entries only after they are persisted', () => {
    const { node } = makeNode({ term: 2 });
    node.step({ type: 'append', from: 'n2', to: 'n1', term: 2, prevIndex: 1, prevTerm: 1, entries: [entry(2, 2)], commit: 1 });
    const ready = node.ready();
    expect(ready.entries.length).toBe(1);
    expect(ready.mustSync).toBe(true);
    expect(ready.messages).toEqual([]);
    expect(ofType(ready.messagesAfterPersist, 'appendResponse').length).toBe(1);
  });
});

describe('§5.4 safety', () => {
  it('"the voter denies its vote if its own log is more up-to-date than that of the candidate"', () => {
    const cases = [
      { lastIndex: 3, lastTerm: 2, reject: false },
      { lastIndex: 4, lastTerm: 2, reject: false },
      { lastIndex: 2, lastTerm: 2, reject: true },
      { lastIndex: 9, lastTerm: 1, reject: true },
      { lastIndex: 1, lastTerm: 3, reject: false },
    ];
    for (const c of cases) {
      const { node, storage } = makeNode({ terms: [2, 2], term: 2 });
      node.step({ type: 'vote', from: 'n2', to: 'n1', term: 3, lastIndex: c.lastIndex, lastTerm: c.lastTerm, transfer: false });
      const [response] = ofType(drain(node, storage).messages, 'voteResponse');
      expect(response?.reject, JSON.stringify(c)).toBe(c.reject);
    }
  });

  it('"Raft never commits log entries from previous terms by counting replicas"', () => {
    // n1 holds 2/1 and 3/1 uncommitted, becomes leader of term 3, and hears n2 match index 3.
    const { node, storage } = electLeader({ terms: [1, 1], term: 2 });
    expect(node.term).toBe(3);
    node.step({ type: 'appendResponse', from: 'n2', to: 'n1', term: 3, index: 3, reject: false, hintIndex: 0, hintTerm: 0 });
    expect(node.commit).toBe(1);
    // Once the leader's no-op (4/3) reaches a majority, everything before it commits too.
    node.step({ type: 'appendResponse', from: 'n2', to: 'n1', term: 3, index: 4, reject: false, hintIndex: 0, hintTerm: 0 });
    expect(node.commit).toBe(4);
    drain(node, storage);
  });
});
