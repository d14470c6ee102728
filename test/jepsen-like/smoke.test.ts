// Proves the chaos harness end to end on a standalone tstan node, with short phases: the baseline
// and three rounds of kill -9 on the FILE store lose nothing and read nothing unexpected, while a
// kill -9 of a MEMORY node (which forgets every acknowledged message) is caught by the same
// checkers, so the FILE verdicts are not vacuous. Assertions are on the checkers' verdicts only,
// never on timings; every wait inside is bounded and every process is stopped by the runner.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '../support/embedded.js';
import { findScenario, runScenario, type RunReport, type Scenario } from './scenarios.js';

const workload = { publishers: 2, publishRateHz: 50, queueGroupMembers: 1, drainTimeoutMs: 10_000 };

/** One kill once at least one publish was acknowledged, so there is something to lose. */
const killOnceAfterAnAck: Scenario = {
  name: 'kill-9-once',
  description: 'SIGKILL after the first acknowledged publish, restart',
  faults: async (ctx) => {
    await until(() => ctx.history.ops.some((op) => op.f === 'publish' && op.type === 'ok'), 10_000, 'a first acknowledged publish');
    await ctx.nemesis.killAndRestart(ctx.node, 200);
  },
};

function expectSafe(report: RunReport): void {
  expect(report.reasons).toEqual([]);
  expect(report.verdict).toBe('valid');
  expect(report.figures?.lost.total).toBe(0);
  expect(report.figures?.unexpected).toBe(0);
  expect(report.figures?.readerMissed).toBe(0);
  expect(report.figures?.drainsIncomplete).toBe(0);
  expect(report.figures?.acked).toBeGreaterThan(0);
}

describe('chaos harness smoke (standalone node)', () => {
  let rootDir = '';
  beforeAll(() => {
    rootDir = mkdtempSync(join(tmpdir(), 'tstan-jepsen-'));
  });
  afterAll(() => rmSync(rootDir, { recursive: true, force: true }));

  it('baseline on the FILE store: nothing lost, nothing unexpected', async () => {
    const report = await runScenario(findScenario('baseline'), { seed: 1, rootDir, phases: { warmupMs: 1_000, faultMs: 2_000 }, workload });
    expectSafe(report);
    expect(report.figures?.faults).toEqual([]);
  }, 40_000);

  it('kill -9 and restart three times on the FILE store: nothing acknowledged lost', async () => {
    const report = await runScenario(findScenario('kill-9'), { seed: 2, rootDir, phases: { warmupMs: 1_000, faultMs: 3_000 }, workload });
    expectSafe(report);
    expect(report.figures?.faults.map((f) => f.kind)).toEqual(['kill-9', 'kill-9', 'kill-9']);
  }, 60_000);

  it('the same checkers catch a MEMORY node that forgets acknowledged messages at a kill', async () => {
    const report = await runScenario(killOnceAfterAnAck, { seed: 3, rootDir, phases: { warmupMs: 500, faultMs: 500 }, workload, store: 'memory' });
    expect(report.verdict).toBe('invalid');
    expect(report.figures?.readerMissed).toBeGreaterThan(0);
  }, 40_000);
});
