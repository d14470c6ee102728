// Runs that must fail: a scenario against a deliberately broken tstan (broken/entry.ts) or an
// unsafe configuration, and the checker that must catch it. A green chaos run means something
// only if each checker is seen to fail when its property is broken (docs/testing.md §5.5).
import { fileURLToPath } from 'node:url';
import type { ClusterRunReport } from './runner.js';
import type { ClusterScenario } from './scenario.js';
import { findClusterScenario } from './scenarios.js';

export const brokenEntry = fileURLToPath(new URL('../broken/entry.ts', import.meta.url));

export interface BrokenRun {
  readonly name: string;
  readonly scenario: ClusterScenario;
  readonly env: Readonly<Record<string, string>>;
  readonly args?: readonly string[];
  readonly checker: string;
  /** True when the report shows the defect was caught by that checker. */
  caught(report: ClusterRunReport): boolean;
}

function scenario(name: string): ClusterScenario {
  const found = findClusterScenario(name);
  if (found === undefined) throw new Error(`no scenario ${name}`);
  // A broken run must not be excused as a measurement.
  return { ...found, measuresLoss: false };
}

const hasReason = (report: ClusterRunReport, pattern: RegExp) => report.verdict === 'invalid' && report.reasons.some((r) => pattern.test(r));

export const brokenRuns: readonly BrokenRun[] = [
  {
    name: 'ack-before-commit',
    scenario: scenario('isolated-leader'),
    env: { TSTAN_BROKEN: 'ack-before-commit' },
    checker: 'total-queue (per channel and per reader) and the final read: an isolated leader acknowledges publishes that never commit',
    caught: (r) => (r.figures?.lost.total ?? 0) + (r.figures?.absentFromDrain ?? 0) + (r.figures?.readerMissed ?? 0) > 0 && hasReason(r, /lost|missed \d+ acknowledged|absent from the final/),
  },
  {
    name: 'diverging-node',
    scenario: scenario('cluster-baseline'),
    env: { TSTAN_BROKEN: 'diverge', TSTAN_BROKEN_NODE: 'c' },
    checker: "divergence: one follower stores other content, which no client reads but the nodes' digests show",
    caught: (r) => r.divergentNodes > 0 && hasReason(r, /^divergence/),
  },
  {
    name: 'forgotten-hard-state',
    scenario: scenario('leader-kill'),
    env: { TSTAN_BROKEN: 'forget-hard-state' },
    checker: 'Raft invariants: a restarted node comes back at a lower term than it had persisted',
    caught: (r) => (r.invariants?.counts.regression ?? 0) > 0 && hasReason(r, /raft invariant \(regression\)/),
  },
  {
    name: 'no-fsync-power-loss',
    scenario: scenario('power-loss-all-torn-lazy'),
    env: { TSTAN_BROKEN: 'none' },
    checker: 'total-queue, sequences and the final read: without fsync a power loss loses acknowledged messages',
    caught: (r) => r.verdict === 'invalid' && (r.figures?.absentFromDrain ?? 0) + (r.figures?.lost.total ?? 0) + (r.figures?.inconsistentSeqs ?? 0) > 0,
  },
];
