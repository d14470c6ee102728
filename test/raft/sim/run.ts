// Run one seed, or many, and report each in one line that names the seed and its options.
import { describeOptions, randomOptions } from './options.js';
import type { SimOverrides } from './options.js';
import { Simulation } from './simulation.js';
import type { SimResult } from './simulation.js';

export function runSeed(seed: number, overrides: SimOverrides = {}): SimResult {
  return new Simulation(randomOptions(seed, overrides)).run();
}

export function summarize(result: SimResult, overrides: SimOverrides = {}): string {
  const options = describeOptions(randomOptions(result.seed, overrides));
  const s = result.stats;
  const outcome = result.ok ? 'ok' : `FAIL(${result.kind}) ${result.message ?? ''}`;
  return `${options} => ${outcome} | simMs=${s.simulatedMs} events=${s.events} crashes=${s.crashes} wipes=${s.wipes}/${s.rejoinsCaughtUp} leaders=${s.leaderTerms} proposals=${s.proposals} acked=${s.acked} last=${s.lastIndex} snapshots=${s.snapshotsSent} sent=${s.messagesSent} dropped=${s.messagesDropped} trace=${result.traceHash.toString(16)}`;
}
