// Proves the Raft core safe and live under faults: 2000 seeds of the deterministic simulator
// (partitions, loss, duplication, reordering, power failures, torn tails, wiped disks with the
// node rejoining behind its catch-up gate, transfers, membership changes with manual or automatic
// promotion), each checked for election safety, one durable vote per node and term, log
// matching, leader completeness, state-machine safety, commit monotonicity, votes and
// acknowledgements backed by durable state when sent, no lost acknowledged proposal, and
// convergence after healing.
import { describe, expect, it } from 'vitest';
import { runSeed, summarize } from './sim/run.js';

const seedsPerCase = 100;
const cases = 20;

describe('simulator, seeds in batches', () => {
  for (let batch = 0; batch < cases; batch++) {
    const first = batch * seedsPerCase + 1;
    it(`seeds ${first}..${first + seedsPerCase - 1} keep every invariant and converge after healing`, async () => {
      const failures: string[] = [];
      let acked = 0;
      let leaderTerms = 0;
      let wipes = 0;
      let caughtUp = 0;
      for (let seed = first; seed < first + seedsPerCase; seed++) {
        const result = runSeed(seed);
        acked += result.stats.acked;
        leaderTerms += result.stats.leaderTerms;
        wipes += result.stats.wipes;
        caughtUp += result.stats.rejoinsCaughtUp;
        if (!result.ok) failures.push(summarize(result));
        // Let the worker answer vitest's RPC between seeds: the runs themselves are synchronous.
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(failures).toEqual([]);
      // The runs did real work: proposals were acknowledged and leadership changed hands.
      expect(acked).toBeGreaterThan(seedsPerCase * 20);
      expect(leaderTerms).toBeGreaterThan(seedsPerCase);
      // Disks were wiped, and the nodes rejoining behind the gate caught up and voted again.
      expect(wipes).toBeGreaterThan(seedsPerCase / 10);
      expect(caughtUp).toBeGreaterThan(wipes / 2);
    });
  }
});

describe('simulator determinism', () => {
  it('replays a seed byte for byte', () => {
    for (const seed of [7, 1234, 99_999]) {
      const first = runSeed(seed);
      const second = runSeed(seed);
      expect(summarize(second)).toBe(summarize(first));
      expect(second.log).toEqual(first.log);
      expect(second.traceHash).toBe(first.traceHash);
    }
  });

  it('different seeds take different paths', () => {
    expect(runSeed(1).traceHash).not.toBe(runSeed(2).traceHash);
  });
});
