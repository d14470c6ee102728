// Proves the simulator's checkers are not vacuous: with a known bug switched on in the core, the
// simulator reports a correctness failure within a bounded number of seeds, and the failing seed
// replays identically. Among them: the catch-up gate switched off for nodes rejoining with a
// wiped disk, found both as a double vote and as a committed entry lost.
import { describe, expect, it } from 'vitest';
import { runSeed, summarize } from './sim/run.js';
import type { SimOverrides } from './sim/options.js';
import type { SimResult } from './sim/simulation.js';

async function firstFailure(overrides: SimOverrides, seedsMax: number, pattern = /./): Promise<SimResult | undefined> {
  for (let seed = 1; seed <= seedsMax; seed++) {
    const result = runSeed(seed, overrides);
    if (!result.ok && pattern.test(result.message ?? '')) return result;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return undefined;
}

/** Wiped disks often: nodes restart in rejoin mode with an empty log and no memory of their votes. */
const wipeProfile: SimOverrides = { wipeRate: 0.3 };
const noGate: SimOverrides = { ...wipeProfile, bugs: { skipCatchUpGate: true } };

/** Targeted faults that make the paper's Figure 8 likely: isolated leaders, crashes after commit. */
const figure8Profile: SimOverrides = {
  nodes: 3,
  appendEntriesMax: 1,
  inflightMessagesMax: 1,
  isolateNewLeaderRate: 0.5,
  crashOnCommitRate: 0.3,
  faultIntervalMs: 3000,
  faultPhaseMs: 20_000,
  membershipChanges: false,
  dropRate: 0,
  delayMaxMs: 30,
};

describe('bug switches are caught', () => {
  it('a node that grants two votes in one term breaks election safety', async () => {
    // The vote checker is off: the two leaders themselves must be found.
    const overrides: SimOverrides = { bugs: { doubleVote: true }, checkVotes: false };
    const failure = await firstFailure(overrides, 100);
    expect(failure?.kind).toBe('correctness');
    expect(failure?.message).toMatch(/election safety/);
    expect(summarize(runSeed(failure!.seed, overrides))).toBe(summarize(failure!));
  });

  it('the vote checker sees the second vote itself, before any second leader', async () => {
    const failure = await firstFailure({ bugs: { doubleVote: true } }, 100);
    expect(failure?.kind).toBe('correctness');
    expect(failure?.message).toMatch(/double vote: n\d voted for n\d and n\d in term \d+/);
  });

  it('without the catch-up gate, a node rejoining with a wiped disk votes twice in a term', async () => {
    const failure = await firstFailure(noGate, 100);
    expect(failure?.kind).toBe('correctness');
    expect(failure?.message).toMatch(/double vote|leader completeness|state machine safety/);
    expect(failure?.stats.wipes).toBeGreaterThan(0);
    expect(summarize(runSeed(failure!.seed, noGate))).toBe(summarize(failure!));
  });

  it('without the catch-up gate, its vote elects a leader that lacks a committed entry', async () => {
    // The vote checker is off, so that the deeper damage shows: committed entries lost.
    const overrides: SimOverrides = { ...noGate, checkVotes: false };
    const failure = await firstFailure(overrides, 100, /leader completeness|state machine safety|acknowledged/);
    expect(failure?.kind).toBe('correctness');
    expect(failure?.message).toMatch(/leader completeness: n\d leads term \d+ without committed entry/);
    expect(summarize(runSeed(failure!.seed, overrides))).toBe(summarize(failure!));
  });

  it('the same wipe profile passes with the gate, and the wiped nodes catch up', () => {
    let wipes = 0;
    let caughtUp = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const result = runSeed(seed, wipeProfile);
      expect(result.ok, summarize(result, wipeProfile)).toBe(true);
      wipes += result.stats.wipes;
      caughtUp += result.stats.rejoinsCaughtUp;
    }
    expect(wipes).toBeGreaterThan(40);
    expect(caughtUp).toBeGreaterThan(wipes * 0.9);
  });

  it('a leader committing an earlier-term entry by counting replicas breaks leader completeness', async () => {
    const overrides: SimOverrides = { ...figure8Profile, bugs: { commitEarlierTerm: true } };
    const failure = await firstFailure(overrides, 100);
    expect(failure?.kind).toBe('correctness');
    expect(failure?.message).toMatch(/leader completeness|state machine safety|at or below commit/);
  });

  it('the same targeted profile passes without the bug', () => {
    for (let seed = 1; seed <= 30; seed++) expect(runSeed(seed, figure8Profile).ok).toBe(true);
  });

  it('a follower acknowledging entries before they are durable loses them in a power failure', async () => {
    // The send-time durability check is off: the loss itself must be found, after a crash.
    const overrides: SimOverrides = { bugs: { ackBeforeDurable: true }, checkDurableBeforeSend: false };
    const failure = await firstFailure(overrides, 100);
    expect(failure?.kind).toBe('correctness');
    // The leader then tells the follower a commit index past its (shortened) log: etcd's
    // "tocommit out of range", the signature of lost acknowledged writes.
    expect(failure?.message).toMatch(/beyond the last index|acknowledged|leader completeness|state machine/);
    expect(failure?.stats.crashes).toBeGreaterThan(0);
  });

  it('the send-time durability check catches an acknowledgement of entries not yet durable at once', () => {
    const result = runSeed(1, { bugs: { ackBeforeDurable: true } });
    expect(result.kind).toBe('correctness');
    expect(result.message).toMatch(/durability: n\d acknowledged \d+ with only \d+ durable/);
  });

  it('the liveness check reports a cluster given no time to converge after healing', () => {
    const result = runSeed(3, { healPhaseMsMax: 50 });
    expect(result.kind).toBe('liveness');
    expect(result.message).toMatch(/no convergence 50ms after healing/);
  });

  it('the same seeds pass with durability honoured', () => {
    for (let seed = 1; seed <= 10; seed++) expect(runSeed(seed).ok).toBe(true);
  });
});
