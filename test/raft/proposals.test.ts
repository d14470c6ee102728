// Proves that pending proposals are settled with what is KNOWN about them, on a real core driven
// by hand (so each path is reached exactly): resolved with the state machine's result when applied
// with its own term, DROPPED when another entry is committed at its index, UNKNOWN when the
// leadership is lost first, when a snapshot replaces it or when the node stops, and kept when it
// is known committed though the node no longer leads. The driver tests prove the same end to end.
import { describe, expect, it } from 'vitest';
import { PendingProposals } from '../../src/raft/proposals.js';
import { proposalOutcome } from '../../src/raft/errors.js';
import type { Entry } from '../../src/raft/types.js';
import { drain, electLeader, entry } from './helpers.js';

const data = new TextEncoder().encode('p');

/** Settles to ['resolved', value] or ['rejected', code, outcome], or 'pending' if not settled yet. */
function watch(promise: Promise<unknown>): () => unknown {
  let state: unknown = 'pending';
  promise.then(
    (value) => (state = ['resolved', value]),
    (error: { code?: string }) => (state = ['rejected', error.code, proposalOutcome(error)]),
  );
  return () => state;
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function ack(index: number, from = 'n2', term = 2) {
  return { type: 'appendResponse', from, to: 'n1', term, index, reject: false, hintIndex: 0, hintTerm: 0 } as const;
}

describe('pending proposals', () => {
  it('resolve with the result the state machine gave for their entry, and ignore the other entries', async () => {
    const { node, storage } = electLeader();
    const proposals = new PendingProposals();
    proposals.syncLeadership(node);
    const index = node.propose(data);
    const outcome = watch(proposals.add<string>(index, node.term));
    node.step(ack(index));
    const applied: Entry[] = drain(node, storage).applied;
    proposals.applied(applied, applied.map((e) => (e.index === index ? 'seq 7' : undefined)));
    await settle();
    expect(outcome()).toEqual(['resolved', { index, result: 'seq 7' }]);
    expect(proposals.committed).toBe(1);
  });

  it('are DROPPED when the leader that lost them learns another entry was committed at their index', async () => {
    const { node, storage } = electLeader();
    const proposals = new PendingProposals();
    proposals.syncLeadership(node);
    const index = node.propose(data);
    drain(node, storage);
    const outcome = watch(proposals.add(index, node.term));
    // A leader of term 3 overwrites the index and has committed it: known not ours.
    node.step({ type: 'append', from: 'n2', to: 'n1', term: 3, prevIndex: index - 1, prevTerm: 2, entries: [entry(index, 3)], commit: index });
    proposals.syncLeadership(node);
    await settle();
    expect(outcome()).toEqual(['rejected', 'RAFT_PROPOSAL_DROPPED', 'dropped']);
  });

  it('are UNKNOWN when leadership is lost before they commit: a peer holding them may still commit them', async () => {
    const { node, storage } = electLeader();
    const proposals = new PendingProposals();
    proposals.syncLeadership(node);
    const index = node.propose(data);
    drain(node, storage);
    const outcome = watch(proposals.add(index, node.term));
    node.step({ type: 'heartbeat', from: 'n3', to: 'n1', term: 3, commit: 0 });
    proposals.syncLeadership(node);
    await settle();
    expect(outcome()).toEqual(['rejected', 'RAFT_PROPOSAL_UNKNOWN', 'unknown']);
  });

  it('stay when known committed though leadership is lost, and resolve once applied', async () => {
    const { node, storage } = electLeader();
    const proposals = new PendingProposals();
    proposals.syncLeadership(node);
    const index = node.propose(data);
    drain(node, storage);
    const outcome = watch(proposals.add(index, node.term));
    node.step(ack(index));
    expect(node.commit).toBe(index);
    // Deposed before the committed entry was applied here.
    node.step({ type: 'heartbeat', from: 'n3', to: 'n1', term: 3, commit: index });
    proposals.syncLeadership(node);
    await settle();
    expect(outcome()).toBe('pending');
    const applied = drain(node, storage).applied;
    proposals.applied(applied, applied.map(() => 'ok'));
    await settle();
    expect(outcome()).toEqual(['resolved', { index, result: 'ok' }]);
  });

  it('are UNKNOWN when a snapshot replaces them or the node stops', async () => {
    const proposals = new PendingProposals();
    const replaced = watch(proposals.add(5, 2));
    const beyond = watch(proposals.add(9, 2));
    proposals.snapshotRestored(7);
    await settle();
    expect(replaced()).toEqual(['rejected', 'RAFT_PROPOSAL_UNKNOWN', 'unknown']);
    expect(beyond()).toBe('pending');
    proposals.stopped(new Error('stopping'));
    await settle();
    expect(beyond()).toEqual(['rejected', 'RAFT_PROPOSAL_UNKNOWN', 'unknown']);
    expect(proposals.size).toBe(0);
  });

  it('are DROPPED if their index is applied with another term', async () => {
    const proposals = new PendingProposals();
    const outcome = watch(proposals.add(4, 2));
    proposals.applied([entry(4, 3)], [undefined]);
    await settle();
    expect(outcome()).toEqual(['rejected', 'RAFT_PROPOSAL_DROPPED', 'dropped']);
  });

  it('never wait two at one index: that would be a broken invariant', () => {
    const proposals = new PendingProposals();
    void proposals.add(4, 2).catch(() => undefined);
    expect(() => proposals.add(4, 3)).toThrow(expect.objectContaining({ code: 'ASSERTION_FAILED' }));
  });
});
