// What a harness error means for a cluster run: a lazy (--cluster_sync=false) scenario whose
// cluster never elects or serves again after its faults has measured a loss of availability; a
// scenario that must lose nothing, an error before the faults, a node that will not even start and
// any other failure of the harness stay harness errors.
import { describe, expect, it } from 'vitest';
import { NodeRefusedStart } from './nemesis.js';
import { availabilityLost, type RunPhase } from './runner.js';
import { reportRow, tableColumns } from './table.js';
import type { ClusterRunReport } from './runner.js';

const noLeader = new Error('no leader within 30000 ms: [["a","Follower",2,""],["b","Candidate",7,""],["c","Follower",1,""]]');

describe('availabilityLost', () => {
  it('is a measured outcome of a lazy scenario once its faults began', () => {
    for (const phase of ['faults', 'heal', 'drain', 'converge'] as RunPhase[]) {
      expect(availabilityLost(noLeader, true, phase)).toMatch(new RegExp(`^${phase}: no leader within 30000 ms`));
    }
    expect(availabilityLost(new Error('nodes did not apply 4211 within 30000 ms: [...]'), true, 'heal')).toMatch(/^heal: nodes did not apply/);
    expect(availabilityLost(new Error('nodes did not converge within 30000 ms: [...]'), true, 'converge')).toMatch(/^converge: nodes did not converge/);
    expect(availabilityLost(new Error('no agreed applied index for digests within 30000 ms'), true, 'converge')).toMatch(/^converge: no agreed/);
  });

  it('stays a harness error for a durable scenario, before the faults, or for anything else', () => {
    expect(availabilityLost(noLeader, false, 'heal')).toBeUndefined();
    expect(availabilityLost(noLeader, true, 'start')).toBeUndefined();
    expect(availabilityLost(new NodeRefusedStart('b', 'exited at start (code 1)'), true, 'faults')).toBeUndefined();
    expect(availabilityLost(new TypeError("Cannot read properties of undefined (reading 'id')"), true, 'faults')).toBeUndefined();
    expect(availabilityLost('no leader within 30000 ms', true, 'faults')).toMatch(/^faults: no leader/);
  });

  it('the figures table says a measured run was unavailable', () => {
    const row = (measuredLoss: ClusterRunReport['measuredLoss']) =>
      reportRow({ scenario: 'power-loss-all-torn-lazy', seed: 3, verdict: 'measured', figures: null, cluster: null, invariants: null, divergentNodes: 0, convergeAfterHealMs: null, measuredLoss } as unknown as ClusterRunReport);
    const verdict = tableColumns.indexOf('verdict');
    const base = { lost: 1881, readerMissed: 0, absentFromDrain: 0, inconsistentSeqs: 0, invariantViolations: 0, acked: 1881, reasons: [] };
    expect(row({ ...base, availability: 'faults: no leader within 30000 ms', unreadable: 1881 })[verdict]).toBe('measured (unavailable)');
    expect(row(base)[verdict]).toBe('measured');
  });
});
