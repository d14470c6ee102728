// `npm run bench`: every workload of docs/benchmarks.md §2 and the component benchmarks, one JSON line per
// result. `--only nats,stan,raft,file` picks suites; `--scale 0.1` shrinks message counts for a
// quick look. Built to dist/bench/run.js (npm run build).
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNatsBench } from './nats.js';
import { runStanBench } from './stan.js';
import { runRaftBench } from './raft.js';
import { runFileStoreBench } from './file-store.js';
import { runStartupBench } from './startup.js';

const suites = {
  startup: async (scale: number) => runStartupBench({ runs: Math.max(5, Math.round(20 * scale)) }),
  nats: async (scale: number) => runNatsBench(Math.max(10_000, Math.round(500_000 * scale))),
  stan: async (scale: number) => runStanBench({ scale }),
  raft: async () => [await runRaftBench()],
  file: async () => [await runFileStoreBench()],
} as const;
type SuiteName = keyof typeof suites;

function argValue(argv: readonly string[], name: string): string | undefined {
  const index = argv.findIndex((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
  if (index < 0) return undefined;
  const arg = argv[index]!;
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[index + 1];
}

export async function runAll(argv: readonly string[]): Promise<void> {
  const only = argValue(argv, 'only');
  const scale = Number(argValue(argv, 'scale') ?? '1');
  if (!Number.isFinite(scale) || scale <= 0) throw new Error(`--scale must be a positive number, got ${argValue(argv, 'scale')}`);
  const names = (only ? only.split(',') : Object.keys(suites)) as SuiteName[];
  for (const name of names) {
    const suite = suites[name];
    if (!suite) throw new Error(`unknown suite ${name}; known: ${Object.keys(suites).join(', ')}`);
    process.stderr.write(`== ${name}\n`);
    for (const row of await suite(scale)) console.log(JSON.stringify({ suite: name, ...row }));
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runAll(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
