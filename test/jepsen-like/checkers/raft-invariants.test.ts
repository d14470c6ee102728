// Proves the Raft invariant checker on hand-made traces: a clean three-node trace passes, and each
// broken property (two leaders in a term, two entries at one index and term, two entries applied
// at one index, term, vote or commit going back across a restart, an entry applied before a
// majority persisted it) is flagged, while a node restarted on a wiped or damaged disk is not, and
// what a node found on disk at start counts as persisted there.
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../cluster/trace.js';
import { checkRaftInvariants } from './raft-invariants.js';

type Input = Omit<TraceEvent, 'tNs' | 'pid'> & { pid?: number };

function traces(...events: Input[]): Map<string, TraceEvent[]> {
  const out = new Map<string, TraceEvent[]>();
  events.forEach((input, i) => {
    const event = { pid: 1, ...input, tNs: (i + 1) * 1000 } as TraceEvent;
    const list = out.get(event.node) ?? [];
    list.push(event);
    out.set(event.node, list);
  });
  return out;
}

const start = (node: string, term: number, vote = '', commit = 0, extra: { rejoining?: boolean; pid?: number } = {}): Input =>
  ({ node, type: 'start', hardState: { term, vote, commit }, firstIndex: 1, lastIndex: 1, snapshotIndex: 0, rejoining: extra.rejoining ?? false, pid: extra.pid ?? 1 }) as Input;
const persisted = (node: string, entries: Array<[number, number, string]>, hardState?: { term: number; vote: string; commit: number }): Input =>
  ({ node, type: 'persisted', mustSync: true, entries, ...(hardState ? { hardState } : {}) }) as Input;
const applied = (node: string, entries: Array<[number, number, string]>): Input => ({ node, type: 'applied', entries }) as Input;
const lead = (node: string, term: number): Input => ({ node, type: 'lead', term }) as Input;

/** a leads term 2; everyone persists entry 2, then applies it. */
function clean(): Input[] {
  return [
    start('a', 1), start('b', 1), start('c', 1),
    persisted('a', [], { term: 2, vote: 'a', commit: 0 }),
    persisted('b', [], { term: 2, vote: 'a', commit: 0 }),
    lead('a', 2),
    persisted('a', [[2, 2, 'x']]),
    persisted('b', [[2, 2, 'x']]),
    applied('a', [[2, 2, 'x']]),
    persisted('c', [[2, 2, 'x']], { term: 2, vote: '', commit: 2 }),
    applied('b', [[2, 2, 'x']]),
    applied('c', [[2, 2, 'x']]),
  ];
}

const check = (events: Input[], durable = true) => checkRaftInvariants(traces(...events), { voters: 3, durable });

describe('Raft invariants over traces', () => {
  it('passes a clean trace', () => {
    const result = check(clean());
    expect(result.valid).toBe(true);
    expect(result.events).toBe(12);
  });

  it('flags two leaders in one term', () => {
    expect(check([...clean(), lead('b', 2)]).counts.electionSafety).toBe(1);
  });

  it('flags two entries at one index and term (log matching)', () => {
    expect(check([...clean(), persisted('c', [[3, 2, 'y']]), persisted('b', [[3, 2, 'z']])]).counts.logMatching).toBe(1);
  });

  it('flags two different entries applied at one index', () => {
    const result = check([...clean(), persisted('a', [[3, 2, 'y']]), persisted('b', [[3, 2, 'y']]), applied('a', [[3, 2, 'y']]), applied('c', [[3, 3, 'q']])]);
    expect(result.counts.stateMachineSafety).toBe(1);
  });

  it('flags term, vote and commit going back while running and across a restart, unless the disk was wiped or damaged', () => {
    expect(check([...clean(), persisted('b', [], { term: 1, vote: '', commit: 2 })]).counts.regression).toBe(1);
    expect(check([...clean(), persisted('b', [], { term: 2, vote: 'c', commit: 2 })]).counts.regression).toBe(1);
    const restartedBehind = [...clean(), start('c', 2, '', 0, { pid: 2 })];
    expect(check(restartedBehind).counts.regression).toBe(1);
    expect(check(restartedBehind, false).counts.regression).toBe(0);
    expect(check([...clean(), start('c', 0, '', 0, { rejoining: true, pid: 2 })]).valid).toBe(true);
    const damaged = traces(...restartedBehind);
    const atNs = (damaged.get('c')!.at(-1)!.tNs) - 1;
    expect(checkRaftInvariants(damaged, { voters: 3, durable: true, damaged: [{ node: 'c', atNs }] }).valid).toBe(true);
  });

  it('flags an entry applied before a majority had persisted it', () => {
    const result = check([...clean(), persisted('a', [[3, 2, 'y']]), applied('a', [[3, 2, 'y']]), persisted('b', [[3, 2, 'y']])]);
    expect(result.counts.commitQuorum).toBe(1);
  });

  it('counts an entry a node found on disk at start as persisted there (a kill can lose the trace line, not the write)', () => {
    const restartWith = (entries: Array<[number, number, string]>): Input =>
      ({ node: 'a', type: 'start', hardState: { term: 2, vote: 'a', commit: 2 }, firstIndex: 1, lastIndex: 3, snapshotIndex: 0, rejoining: false, pid: 2, uncommitted: entries }) as Input;
    const tail = (found: Array<[number, number, string]>) => [...clean(), restartWith(found), persisted('b', [[3, 2, 'y']]), applied('a', [[3, 2, 'y']])];
    expect(check(tail([[3, 2, 'y']])).counts.commitQuorum).toBe(0);
    expect(check(tail([])).counts.commitQuorum).toBe(1);
  });
});
