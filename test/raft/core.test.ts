// Proves the core's guard rails: malformed messages and options give coded errors, invariants
// stop the node when broken, Ready is used in order, the log cache serves replication, and the
// simulator's own pieces (checker, power-failing disk) detect what they are meant to.
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/raft/messages.js';
import { RaftNode } from '../../src/raft/node.js';
import { Raft } from '../../src/raft/raft.js';
import { MemoryStorage } from '../../src/raft/storage.js';
import { RaftLog } from '../../src/raft/log.js';
import { applyConfigChange, decodeConfig, encodeConfig } from '../../src/raft/membership.js';
import { proposalOutcome } from '../../src/raft/errors.js';
import { drain, electLeader, entry, makeNode } from './helpers.js';
import { Rng } from './sim/rng.js';
import { Checker } from './sim/checker.js';
import { SimDisk } from './sim/disk.js';

function refusalOf(run: () => unknown): [string | undefined, string | undefined, string] {
  try {
    run();
  } catch (error) {
    const { code, reason } = error as { code?: string; reason?: string };
    return [code, reason, proposalOutcome(error)];
  }
  return [undefined, undefined, 'none'];
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe('bad input', () => {
  const bad: unknown[] = [
    null,
    { type: 'nonsense', from: 'n2', to: 'n1', term: 1 },
    { type: 'heartbeat', from: 'n2', to: 'n9', term: 1, commit: 0 },
    { type: 'heartbeat', from: '', to: 'n1', term: 1, commit: 0 },
    { type: 'heartbeat', from: 'n2', to: 'n1', term: -1, commit: 0 },
    { type: 'heartbeat', from: 'n2', to: 'n1', term: 1, commit: 1.5 },
    { type: 'append', from: 'n2', to: 'n1', term: 2, prevIndex: 1, prevTerm: 1, commit: 1, entries: [entry(3, 2)] },
    { type: 'append', from: 'n2', to: 'n1', term: 2, prevIndex: 1, prevTerm: 1, commit: 1, entries: [entry(2, 5)] },
    { type: 'append', from: 'n2', to: 'n1', term: 2, prevIndex: 1, prevTerm: 1, commit: 1, entries: 'x' },
    { type: 'vote', from: 'n2', to: 'n1', term: 2, lastIndex: 1, lastTerm: 1 },
    { type: 'installSnapshot', from: 'n2', to: 'n1', term: 2, offset: 0, totalBytes: 1, data: 'x', done: true, meta: { index: 1, term: 1 } },
  ];
  it('every malformed message is refused with RAFT_BAD_MESSAGE and changes nothing', () => {
    const { node, storage } = makeNode();
    for (const message of bad) {
      expect(codeOf(() => node.step(message as Message)), JSON.stringify(message)).toBe('RAFT_BAD_MESSAGE');
    }
    expect(node.term).toBe(1);
    expect(drain(node, storage).messages).toEqual([]);
  });

  it('bad options are refused with RAFT_BAD_OPTIONS', () => {
    const storage = new MemoryStorage();
    const random = new Rng(1);
    expect(codeOf(() => new RaftNode({ id: 'a b', storage, random }))).toBe('RAFT_BAD_OPTIONS');
    expect(codeOf(() => new RaftNode({ id: 'a', storage, random, electionTicks: 0 }))).toBe('RAFT_BAD_OPTIONS');
    expect(codeOf(() => new RaftNode({ id: 'a', storage, random, electionTicks: 2, heartbeatTicks: 2 }))).toBe('RAFT_BAD_OPTIONS');
    expect(codeOf(() => new RaftNode({ id: 'a', storage, random, trailingLogs: -1 }))).toBe('RAFT_BAD_OPTIONS');
  });

  it('bad membership changes and config entries are refused with RAFT_BAD_CONFIG_CHANGE (RAFT_UNKNOWN_NODE for a stranger)', () => {
    const config = { voters: ['a', 'b'], nonVoters: [] };
    expect(codeOf(() => applyConfigChange(config, { type: 'addNonVoter', node: 'a' }))).toBe('RAFT_BAD_CONFIG_CHANGE');
    expect(codeOf(() => applyConfigChange(config, { type: 'remove', node: 'z' }))).toBe('RAFT_UNKNOWN_NODE');
    expect(codeOf(() => applyConfigChange({ voters: ['a'], nonVoters: [] }, { type: 'remove', node: 'a' }))).toBe('RAFT_BAD_CONFIG_CHANGE');
    expect(codeOf(() => applyConfigChange(config, { type: 'addVoter', node: 'x.y' }))).toBe('RAFT_BAD_CONFIG_CHANGE');
    expect(codeOf(() => decodeConfig(new TextEncoder().encode('{"voters":[1]}')))).toBe('RAFT_BAD_CONFIG_CHANGE');
    expect(codeOf(() => decodeConfig(new Uint8Array([0xff])))).toBe('RAFT_BAD_CONFIG_CHANGE');
    expect(decodeConfig(encodeConfig(config))).toEqual(config);
  });

  it('oversized proposals and proposals beyond the uncommitted bound are refused before they are appended', () => {
    const { node } = electLeader({ options: { proposalBytesMax: 8, uncommittedEntriesMax: 3 } });
    const last = node.status().lastIndex;
    expect(refusalOf(() => node.propose(new Uint8Array(9)))).toEqual(['RAFT_PROPOSAL_REFUSED', 'tooLarge', 'refused']);
    node.propose(new Uint8Array(1));
    node.propose(new Uint8Array(1));
    expect(refusalOf(() => node.propose(new Uint8Array(1)))).toEqual(['RAFT_PROPOSAL_REFUSED', 'backPressure', 'refused']);
    expect(node.status().lastIndex).toBe(last + 2);
  });

  it('a proposal to a follower is refused with RAFT_NOT_LEADER, naming the leader it knows', () => {
    const { node } = makeNode({ term: 2 });
    node.step({ type: 'heartbeat', from: 'n2', to: 'n1', term: 2, commit: 1 });
    let error: unknown;
    try {
      node.propose(new Uint8Array(1));
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'RAFT_NOT_LEADER', leader: 'n2' });
    expect(proposalOutcome(error)).toBe('refused');
  });

  it('proposalOutcome tells refused, dropped and unknown apart, and calls anything else unknown', () => {
    expect(proposalOutcome({ code: 'RAFT_PROPOSAL_DROPPED' })).toBe('dropped');
    expect(proposalOutcome({ code: 'RAFT_PROPOSAL_UNKNOWN' })).toBe('unknown');
    expect(proposalOutcome({ code: 'RAFT_CONFIG_CHANGE_PENDING' })).toBe('refused');
    expect(proposalOutcome(new Error('disk on fire'))).toBe('unknown');
    expect(proposalOutcome(undefined)).toBe('unknown');
  });
});

describe('invariants stay on', () => {
  it('truncating at or below the commit index stops the node', () => {
    const storage = new MemoryStorage();
    storage.append([entry(1, 1), entry(2, 1)]);
    const log = new RaftLog(storage, 4, 2, 0);
    expect(codeOf(() => log.append([entry(2, 2)]))).toBe('ASSERTION_FAILED');
  });

  it('a second vote in one term stops the node', () => {
    const storage = new MemoryStorage();
    const raft = new Raft({ id: 'a', random: new Rng(1) }, storage);
    raft.setVote('b');
    expect(codeOf(() => raft.setVote('c'))).toBe('ASSERTION_FAILED');
  });

  it('the term never goes back', () => {
    const raft = new Raft({ id: 'a', random: new Rng(1) }, new MemoryStorage());
    raft.becomeFollower(5, '');
    expect(codeOf(() => raft.becomeFollower(4, ''))).toBe('ASSERTION_FAILED');
  });

  it('a commit index beyond the log (lost acknowledged entries) stops the node', () => {
    const { node } = makeNode({ term: 2 });
    expect(codeOf(() => node.step({ type: 'heartbeat', from: 'n2', to: 'n1', term: 2, commit: 9 }))).toBe('ASSERTION_FAILED');
  });

  it('ready() before advance() is a usage error', () => {
    const { node } = electLeader();
    node.propose(new Uint8Array(1));
    node.ready();
    expect(codeOf(() => node.ready())).toBe('RAFT_READY_MISUSE');
  });
});

describe('log cache', () => {
  it('serves replication of recent entries without reading storage', () => {
    const { node, storage } = electLeader({ options: { logCacheSize: 16 } });
    for (const from of ['n2', 'n3']) node.step({ type: 'appendResponse', from, to: 'n1', term: 2, index: 2, reject: false, hintIndex: 0, hintTerm: 0 });
    drain(node, storage);
    for (let i = 0; i < 5; i++) {
      const index = node.propose(new Uint8Array(4));
      drain(node, storage);
      node.step({ type: 'appendResponse', from: 'n3', to: 'n1', term: 2, index, reject: false, hintIndex: 0, hintTerm: 0 });
      drain(node, storage);
    }
    // A follower that fell back re-reads entries persisted a moment ago: from the cache.
    const before = node.logStats();
    node.step({ type: 'appendResponse', from: 'n2', to: 'n1', term: 2, index: 6, reject: true, hintIndex: 2, hintTerm: 2 });
    drain(node, storage);
    expect(node.logStats().cacheHits).toBeGreaterThan(before.cacheHits);
    expect(node.logStats().storageReads).toBe(before.storageReads);
  });
});

describe('simulator pieces', () => {
  it('the checker reports an acknowledged proposal that is missing from the applied history', () => {
    const checker = new Checker();
    checker.onApply('n1', 1, 1, 11, 'p0');
    checker.onAck('p0', 1);
    checker.onAck('p1', 2);
    expect(() => checker.checkAcked(2)).toThrow(/acknowledged p1/);
  });

  it('the checker reports two leaders in a term and differing applied state', () => {
    const checker = new Checker();
    checker.onLeader('n1', 3, () => undefined, 1);
    expect(() => checker.onLeader('n2', 3, () => undefined, 1)).toThrow(/election safety/);
    checker.onApply('n1', 5, 2, 100, 'p');
    expect(() => checker.onApply('n2', 5, 2, 101, 'p')).toThrow(/state machine safety/);
  });

  it('a power failure keeps what was synced and may lose what was not', () => {
    const disk = new SimDisk();
    disk.write({ type: 'append', entries: [entry(1, 1), entry(2, 1)] });
    disk.sync();
    disk.write({ type: 'append', entries: [entry(3, 1), entry(4, 1)] });
    expect(disk.live.lastIndex()).toBe(4);
    const outcomes = new Set<number>();
    for (let seed = 0; seed < 40; seed++) {
      const copy = new SimDisk();
      copy.write({ type: 'append', entries: [entry(1, 1), entry(2, 1)] });
      copy.sync();
      copy.write({ type: 'append', entries: [entry(3, 1), entry(4, 1)] });
      copy.crash(new Rng(seed), true);
      outcomes.add(copy.restartView().lastIndex());
    }
    expect(Math.min(...outcomes)).toBe(2);
    expect([...outcomes].every((last) => last >= 2 && last <= 4)).toBe(true);
    expect(outcomes.size).toBeGreaterThan(1);
  });
});
