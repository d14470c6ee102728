// `npm run bench`: start-up, every workload of docs/benchmarks.md §2 and the component
// benchmarks, one JSON line per result. `--only startup,nats,stan,raft,file` picks suites;
// `--scale 0.1` shrinks message counts for a quick look.
// The STAN suites take the flags of bench/stan.ts too (--workloads, --stores, --clients, --runs,
// --tstan-root, --vs, --interleave): `stan` runs W1-W4 with the fast clients (C on libnats, the
// lean TypeScript client) and node-nats-streaming beside them; `stan-fast` only the fast ones,
// `stan-node` only node-nats-streaming. `cluster` runs W1-W4 against 3-node clusters (durable and
// --cluster_sync=false, the client on a follower and on the leader; --cluster-sync, --client-node
// pick); `failover` kills or stops the leader of a loaded cluster and reports the new-leader time
// and the longest gap between PubAcks. Built to dist/bench/run.js (npm run build).
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNatsBench } from './nats.js';
import { STAN_BENCH_USAGE, clusterConfigsFromArgs, runStanBench, stanBenchOptionsFromArgs } from './stan.js';
import { runRaftBench } from './raft.js';
import { FAILOVER_BENCH_USAGE, failoverBenchOptionsFromArgs, runFailoverBench } from './failover.js';
import { runFileStoreBench } from './file-store.js';
import { runStartupBench } from './startup.js';

type Suite = (scale: number, argv: readonly string[]) => Promise<object[]>;

/** The STAN suites print their own lines (and a table) as they go: nothing left for run.ts to print. */
function stanSuite(suite: string, clients: Array<'c' | 'lean' | 'node'>): Suite {
  return async (scale, argv) => {
    await runStanBench(stanBenchOptionsFromArgs(argv, { suite, scale, clients }));
    return [];
  };
}

const clusterSuite: Suite = async (scale, argv) => {
  const options = stanBenchOptionsFromArgs(argv, { suite: 'cluster', scale, clients: ['c', 'lean', 'node'] });
  await runStanBench({ ...options, configs: clusterConfigsFromArgs(argv) });
  return [];
};

const suites: Record<string, Suite> = {
  startup: async (scale) => runStartupBench({ runs: Math.max(5, Math.round(20 * scale)) }),
  nats: async (scale) => runNatsBench(Math.max(10_000, Math.round(500_000 * scale))),
  stan: stanSuite('stan', ['c', 'lean', 'node']),
  'stan-fast': stanSuite('stan-fast', ['c', 'lean']),
  'stan-node': stanSuite('stan-node', ['node']),
  cluster: clusterSuite,
  failover: async (_scale, argv) => {
    await runFailoverBench(failoverBenchOptionsFromArgs(argv));
    return [];
  },
  raft: async () => [await runRaftBench()],
  file: async () => [await runFileStoreBench()],
};
/** What `npm run bench` runs without --only (stan already covers stan-fast and stan-node). */
const DEFAULT_SUITES = ['startup', 'nats', 'stan', 'cluster', 'failover', 'raft', 'file'];

/** Every flag run.ts or its suites read, and whether it takes a value. */
const FLAGS: Record<string, 'value' | 'switch'> = {
  only: 'value', scale: 'value', help: 'switch',
  // STAN and cluster suites (bench/stan.ts)
  workloads: 'value', stores: 'value', clients: 'value', runs: 'value', 'timeout-s': 'value', 'tstan-root': 'value',
  'server-flags': 'value', 'vs-server-flags': 'value', vs: 'value', interleave: 'switch', 'no-jetstream': 'switch',
  'cluster-sync': 'value', 'client-node': 'value',
  // failover (bench/failover.ts)
  faults: 'value', 'pause-s': 'value', 'fault-after-s': 'value', 'duration-s': 'value', rate: 'value', window: 'value', 'ack-timeout-ms': 'value',
};

/** A mistyped flag would otherwise be ignored, and the run measure something else than asked. */
function checkFlags(argv: readonly string[]): void {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) continue;
    const name = arg.slice(2).split('=')[0]!;
    const kind = FLAGS[name];
    if (kind === undefined) throw new Error(`unknown flag --${name}; see npm run bench -- --help`);
    // The value may itself start with -- (--server-flags '--file_sync=false').
    if (kind === 'value' && !arg.includes('=')) i++;
  }
}

function argValue(argv: readonly string[], name: string): string | undefined {
  const index = argv.findIndex((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
  if (index < 0) return undefined;
  const arg = argv[index]!;
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[index + 1];
}

export async function runAll(argv: readonly string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`npm run bench -- [--only ${Object.keys(suites).join(',')}] [--scale F]\nSTAN suites: ${STAN_BENCH_USAGE}\nfailover: ${FAILOVER_BENCH_USAGE}\n`);
    return;
  }
  checkFlags(argv);
  const only = argValue(argv, 'only');
  const scale = Number(argValue(argv, 'scale') ?? '1');
  if (!Number.isFinite(scale) || scale <= 0) throw new Error(`--scale must be a positive number, got ${argValue(argv, 'scale')}`);
  const names = only ? only.split(',') : DEFAULT_SUITES;
  for (const name of names) {
    const suite = suites[name];
    if (!suite) throw new Error(`unknown suite ${name}; known: ${Object.keys(suites).join(', ')}`);
    process.stderr.write(`== ${name}\n`);
    for (const row of await suite(scale, argv)) console.log(JSON.stringify({ suite: name, ...row }));
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runAll(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
