// The soak run (cluster/soak.ts), not in CI: an hour of load by default with a leadership change
// every minute (the leader paused until replaced, or `--change handover`: SIGTERM and restart) and
// a kill every fifth, printing each node's RSS, open fds and Raft log size as it goes and judging
// at the end that they stayed flat and that no acknowledged message was lost.
//   npm run soak [-- --minutes 60] [--seed N] [--sample-s 30] [--rate-hz 10] [--change pause|handover]
//                [--change-every-s 60] [--kill-every 5] [--built] [--node-options '...'] [--dir ROOT] [--tstan-root DIR]
// --built runs the nodes from dist/bin/tstan.js (npm run build first) instead of the sources under
// tsx; --kill-every 0 makes no change a kill; --node-options is the nodes' NODE_OPTIONS (e.g. --heapsnapshot-signal=SIGUSR2).
// Samples go to stderr as they are taken (and to soak-samples.ndjson in the run directory); one
// JSON row on stdout at the end. Exit 0 valid, 1 a checker failed or a resource grew, 2 harness error.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_HARNESS, UsageError, parseCommandLine, runMain } from './cli-usage.js';
import { runSoak } from './cluster/soak.js';
import { formatFlatness } from './cluster/soak-figures.js';

const EXIT_INVALID = 1;

const USAGE = `npm run soak -- [--minutes 60] [--seed N] [--sample-s 30] [--rate-hz 10] [--change pause|handover]
  [--change-every-s 60] [--kill-every 5] [--built] [--node-options '...'] [--dir ROOT] [--tstan-root DIR]
`;

function positive(name: string, text: string | undefined, fallback: number): number {
  const value = text === undefined ? fallback : Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`--${name} must be a positive number, got ${text}`);
  return value;
}

function parseOptions() {
  return parseCommandLine({
    options: {
      help: { type: 'boolean', short: 'h' },
      minutes: { type: 'string' },
      seed: { type: 'string' },
      'sample-s': { type: 'string' },
      'rate-hz': { type: 'string' },
      change: { type: 'string' },
      dir: { type: 'string' },
      'tstan-root': { type: 'string' },
      'change-every-s': { type: 'string' },
      built: { type: 'boolean' },
      'kill-every': { type: 'string' },
      'node-options': { type: 'string' },
    },
  });
}

async function main(): Promise<number> {
  const { values } = parseOptions();
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const leaderChange = values.change ?? 'pause';
  if (leaderChange !== 'pause' && leaderChange !== 'handover') throw new UsageError(`--change must be pause or handover, got ${values.change}`);
  const minutes = Math.round(positive('minutes', values.minutes, 60));
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
  if (!Number.isSafeInteger(seed)) throw new UsageError(`--seed must be an integer, got ${values.seed}`);
  const rootDir = values.dir ?? join(tmpdir(), `tstan-soak-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(rootDir, { recursive: true });
  process.stderr.write(`soak: seed ${seed}, ${minutes} min, leadership changed by ${leaderChange} every ${values['change-every-s'] ?? 60} s, nodes from ${values.built === true ? 'dist' : 'sources under tsx'}, in ${rootDir}\n`);
  const report = await runSoak({
    seed,
    rootDir,
    minutes,
    sampleEveryMs: positive('sample-s', values['sample-s'], 30) * 1000,
    publishRateHz: positive('rate-hz', values['rate-hz'], 10),
    leaderChange,
    changeEveryMs: positive('change-every-s', values['change-every-s'], 60) * 1000,
    killEvery: values['kill-every'] === undefined ? 5 : Math.round(Number(values['kill-every'])),
    ...(values.built === true ? { built: true } : {}),
    ...(values['node-options'] !== undefined ? { nodeOptions: values['node-options'] } : {}),
    ...(values['tstan-root'] !== undefined ? { tstanRoot: values['tstan-root'] } : {}),
    log: (line) => process.stderr.write(line + '\n'),
  });
  process.stderr.write(formatFlatness(report.flatness));
  process.stderr.write(`soak ${report.verdict}: ${report.acked} acked, lost ${report.lost}, unexpected ${report.unexpected}, ${report.changes} leadership changes by ${report.leaderChange}, ${report.kills} kills, ${report.leaderChanges} leader changes, longest ack gap ${report.longestAckGapMs} ms\n`);
  for (const reason of report.reasons) process.stderr.write(`  ${reason}\n`);
  process.stdout.write(JSON.stringify(report) + '\n');
  return report.verdict === 'valid' ? 0 : report.verdict === 'error' ? EXIT_HARNESS : EXIT_INVALID;
}

runMain(main, USAGE);
