// Runs chaos scenarios, standalone and clustered, and prints one JSON row per scenario, then a
// table of the figures.
//   node --import tsx test/jepsen-like/cli.ts [--scenario NAME[,NAME...]] [--suite all|standalone|cluster|broken]
//        [--seed N] [--dir ROOT] [--warmup-ms N] [--fault-ms N] [--keep] [--store file|memory] [--tstan-root DIR]
//        [--report FILE]
// Writes report.html (default in ROOT, a new directory under the system's temporary one), beside
// each scenario's run directory (history, node logs, traces; data directories only of failed runs).
// (--store memory loses everything at a kill: a run that must fail, to see the checkers bite;
// --tstan-root runs another checkout, e.g. a git worktree of a commit, with node_modules linked,
// so that edits to this tree during a run do not change the server between two restarts)
// Without --scenario every scenario of the suite runs in order (--store applies to standalone ones);
// `--suite broken` runs deliberately broken builds and exits 0 only if every one was caught. Exit codes (TigerBeetle style): 0 all valid,
// 1 a checker failed, 2 a harness error (the run could not be checked).
import { mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_HARNESS, UsageError, parseCommandLine, runMain } from './cli-usage.js';
import { findScenario, runScenario, scenarios, type RunReport } from './scenarios.js';
import { clusterScenarios, findClusterScenario } from './cluster/scenarios.js';
import { runClusterScenario, type ClusterRunReport } from './cluster/runner.js';
import { figuresTable } from './cluster/table.js';
import { brokenEntry, brokenRuns } from './cluster/broken.js';
import { renderReport } from './cluster/report-html.js';

const EXIT_INVALID = 1;

type AnyReport = RunReport | ClusterRunReport;

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

const USAGE = `npm run jepsen -- [--scenario NAME[,NAME...]] [--suite all|standalone|cluster|broken] [--seed N]
  [--dir ROOT] [--warmup-ms N] [--fault-ms N] [--keep] [--store file|memory] [--tstan-root DIR] [--report FILE]
`;
const SUITES = ['all', 'standalone', 'cluster', 'broken'];

function parseOptions() {
  return parseCommandLine({
    options: {
      help: { type: 'boolean', short: 'h' },
      scenario: { type: 'string', multiple: true },
      suite: { type: 'string' },
      seed: { type: 'string' },
      dir: { type: 'string' },
      'warmup-ms': { type: 'string' },
      'fault-ms': { type: 'string' },
      keep: { type: 'boolean' },
      store: { type: 'string' },
      'tstan-root': { type: 'string' },
      report: { type: 'string' },
    },
  });
}

async function main(): Promise<number> {
  const { values } = parseOptions();
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.suite !== undefined && !SUITES.includes(values.suite)) throw new UsageError(`--suite must be one of ${SUITES.join(', ')}, got ${values.suite}`);
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
  if (!Number.isSafeInteger(seed)) throw new UsageError(`--seed must be an integer, got ${values.seed}`);
  const rootDir = values.dir ?? join(tmpdir(), `tstan-jepsen-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const reportFile = values.report ?? join(rootDir, 'report.html');
  const startedAt = new Date().toISOString();
  const phases = { warmupMs: Number(values['warmup-ms'] ?? 5_000), faultMs: Number(values['fault-ms'] ?? 20_000) };
  const store = values.store ?? 'file';
  if (store !== 'file' && store !== 'memory') throw new UsageError(`--store must be file or memory, got ${store}`);
  const tstanRoot = values['tstan-root'] === undefined ? {} : { tstanRoot: values['tstan-root'] };
  const suite = values.suite ?? 'all';
  const names = (values.scenario ?? []).flatMap((n) => n.split(','));
  const runs: Array<{ name: string; run: () => Promise<AnyReport> }> = [];
  const wanted = (name: string) => names.length === 0 || names.includes(name);
  for (const name of names) {
    if (!scenarios.some((s) => s.name === name) && findClusterScenario(name) === undefined && !brokenRuns.some((b) => b.name === name)) {
      throw new UsageError(`unknown scenario ${name}; known: ${[...scenarios, ...clusterScenarios].map((s) => s.name).join(', ')}`);
    }
  }
  if (suite === 'all' || suite === 'standalone') {
    for (const scenario of scenarios.filter((s) => wanted(s.name))) {
      runs.push({ name: scenario.name, run: () => runScenario(findScenario(scenario.name), { seed, rootDir, phases, keep: values.keep === true, store, ...tstanRoot }) });
    }
  }
  if (suite === 'all' || suite === 'cluster') {
    for (const scenario of clusterScenarios.filter((s) => wanted(s.name))) {
      runs.push({ name: scenario.name, run: () => runClusterScenario(scenario, { seed, rootDir, phases, keep: values.keep === true, ...tstanRoot }) });
    }
  }
  // Runs that must fail: each broken build or unsafe setting must be caught by its checker.
  const mustFail = new Map<string, (report: ClusterRunReport) => boolean>();
  if (suite === 'broken') {
    for (const broken of brokenRuns.filter((b) => wanted(b.name) || names.length === 0)) {
      mustFail.set(broken.name, broken.caught);
      runs.push({ name: broken.name, run: async () => ({ ...(await runClusterScenario(broken.scenario, { seed, rootDir, phases, entry: brokenEntry, env: broken.env, ...tstanRoot })), scenario: broken.name }) });
    }
  }
  if (runs.length === 0) throw new UsageError(`no scenario of suite ${suite} is named ${names.join(', ')}`);
  mkdirSync(rootDir, { recursive: true });
  process.stderr.write(`seed ${seed}; scenarios ${runs.map((r) => r.name).join(', ')}\n`);
  const reports: AnyReport[] = [];
  let uncaught = 0;
  for (const { name, run } of runs) {
    const report = await run();
    reports.push(report);
    const caught = mustFail.get(name)?.(report as ClusterRunReport);
    if (caught === false) uncaught++;
    process.stdout.write(JSON.stringify({ ...report, timeline: undefined, ...(caught === undefined ? {} : { caught }) }) + '\n');
  }
  process.stderr.write(figuresTable(reports));
  writeFileSync(reportFile, renderReport(reports, { seed, startedAt, commit: gitCommit(), command: `npm run jepsen -- ${process.argv.slice(2).join(' ')}` }));
  process.stderr.write(`report: ${reportFile}\n`);
  if (suite === 'broken') {
    process.stderr.write(uncaught === 0 ? 'every broken run was caught\n' : `${uncaught} broken runs were NOT caught\n`);
    return uncaught === 0 ? 0 : EXIT_INVALID;
  }
  if (reports.some((r) => r.verdict === 'error')) return EXIT_HARNESS;
  if (reports.some((r) => r.verdict === 'invalid')) return EXIT_INVALID;
  return 0;
}

runMain(main, USAGE);
