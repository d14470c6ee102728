// `npm run sim -- --seed N` replays one seed (with its event log on failure or with --verbose);
// `--seeds K` runs seeds N..N+K-1. Exit codes: 0 all passed, 1 correctness, 2 liveness, 3 crash.
import { runSeed, summarize } from './run.js';
import type { SimOverrides } from './options.js';
import type { RaftBugSwitches } from '../../../src/raft/options.js';

const exitCodes = { correctness: 1, liveness: 2, crash: 3 } as const;
const bugNames = ['doubleVote', 'commitEarlierTerm', 'ackBeforeDurable', 'skipCatchUpGate'] as const;

interface CliArgs {
  seed: number;
  seeds: number;
  verbose: boolean;
  overrides: SimOverrides;
}

const USAGE = `usage: sim [--seed N] [--seeds K] [--nodes 3-5] [--wipe PERCENT] [--bug ${bugNames.join('|')}] [--verbose]\n`;

function usage(message: string): never {
  process.stderr.write(`${message}\n${USAGE}`);
  process.exit(64);
}

function parseInteger(flag: string, value: string | undefined, min: number, max: number): number {
  const parsed = Number(value);
  if (value === undefined || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    usage(`${flag} needs an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return parsed;
}

function parseArgs(argv: readonly string[]): CliArgs {
  const args: CliArgs = { seed: 1, seeds: 1, verbose: false, overrides: {} };
  const bugs: Record<string, boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    switch (flag) {
      case '--seed':
        args.seed = parseInteger(flag, argv[++i], 0, Number.MAX_SAFE_INTEGER);
        break;
      case '--seeds':
        args.seeds = parseInteger(flag, argv[++i], 1, 10_000_000);
        break;
      case '--nodes':
        args.overrides = { ...args.overrides, nodes: parseInteger(flag, argv[++i], 3, 5) };
        break;
      case '--wipe':
        args.overrides = { ...args.overrides, wipeRate: parseInteger(flag, argv[++i], 0, 100) / 100 };
        break;
      case '--bug': {
        const name = argv[++i];
        if (!bugNames.includes(name as (typeof bugNames)[number])) usage(`unknown bug ${String(name)}`);
        bugs[name!] = true;
        break;
      }
      case '--verbose':
        args.verbose = true;
        break;
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        process.exit(0);
      default:
        usage(`unknown argument ${String(flag)}`);
    }
  }
  if (Object.keys(bugs).length > 0) args.overrides = { ...args.overrides, bugs: bugs as RaftBugSwitches };
  return args;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  let worst = 0;
  let failed = 0;
  const started = process.hrtime.bigint();
  for (let seed = args.seed; seed < args.seed + args.seeds; seed++) {
    const result = runSeed(seed, args.overrides);
    process.stdout.write(`${summarize(result, args.overrides)}\n`);
    if ((args.verbose || !result.ok) && args.seeds === 1) {
      for (const line of result.log) process.stdout.write(`  ${line}\n`);
    }
    if (!result.ok && result.kind) {
      failed++;
      worst = Math.max(worst, exitCodes[result.kind]);
    }
  }
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(`${args.seeds} seeds, ${failed} failed\n`);
  // Wall time goes to stderr so that stdout of a seed is byte-identical from run to run.
  process.stderr.write(`${elapsedMs.toFixed(0)} ms\n`);
  process.exitCode = worst;
}

main();
