// Runs chaos scenarios against a standalone tstan node and prints one JSON row per scenario.
//   node --import tsx test/jepsen-like/cli.ts [--scenario NAME] [--seed N] [--dir ROOT]
//        [--warmup-ms N] [--fault-ms N] [--keep] [--store file|memory] [--tstan-root DIR]
// (--store memory loses everything at a kill: a run that must fail, to see the checkers bite;
// --tstan-root runs another checkout, e.g. a git worktree of a commit, with node_modules linked,
// so that edits to this tree during a run do not change the server between two restarts)
// Without --scenario every scenario runs in order. Exit codes (TigerBeetle style): 0 all valid,
// 1 a checker failed, 2 a harness error (the run could not be checked).
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { findScenario, runScenario, scenarios, type RunReport } from './scenarios.js';

const EXIT_INVALID = 1;
const EXIT_HARNESS = 2;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string' },
      seed: { type: 'string' },
      dir: { type: 'string' },
      'warmup-ms': { type: 'string' },
      'fault-ms': { type: 'string' },
      keep: { type: 'boolean' },
      store: { type: 'string' },
      'tstan-root': { type: 'string' },
    },
  });
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
  if (!Number.isSafeInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`);
  const rootDir = values.dir ?? tmpdir();
  mkdirSync(rootDir, { recursive: true });
  const phases = { warmupMs: Number(values['warmup-ms'] ?? 5_000), faultMs: Number(values['fault-ms'] ?? 20_000) };
  const store = values.store ?? 'file';
  if (store !== 'file' && store !== 'memory') throw new Error(`--store must be file or memory, got ${store}`);
  const selected = values.scenario === undefined ? scenarios : [findScenario(values.scenario)];
  process.stderr.write(`seed ${seed}; scenarios ${selected.map((s) => s.name).join(', ')}\n`);
  const reports: RunReport[] = [];
  for (const scenario of selected) {
    const report = await runScenario(scenario, { seed, rootDir, phases, keep: values.keep === true, store, ...(values['tstan-root'] === undefined ? {} : { tstanRoot: values['tstan-root'] }) });
    reports.push(report);
    process.stdout.write(JSON.stringify(report) + '\n');
  }
  if (reports.some((r) => r.verdict === 'error')) return EXIT_HARNESS;
  if (reports.some((r) => r.verdict === 'invalid')) return EXIT_INVALID;
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(EXIT_HARNESS);
  },
);
