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
import { STAN_BENCH_FLAGS, STAN_BENCH_USAGE, clusterConfigsFromArgs, runStanBench, stanBenchOptionsFromArgs } from './stan.js';
import { runRaftBench } from './raft.js';
import { FAILOVER_BENCH_FLAGS, FAILOVER_BENCH_USAGE, failoverBenchOptionsFromArgs, runFailoverBench } from './failover.js';
import { checkFlags, flagValue, type FlagKind } from './flags.js';
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

/** run.ts's own flags; each suite's are beside its parser. */
const RUN_FLAGS: Record<string, FlagKind> = { only: 'value', scale: 'value', help: 'switch' };

export async function runAll(argv: readonly string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`npm run bench -- [--only ${Object.keys(suites).join(',')}] [--scale F]\nSTAN suites: ${STAN_BENCH_USAGE}\nfailover: ${FAILOVER_BENCH_USAGE}\n`);
    return;
  }
  checkFlags(argv, { ...RUN_FLAGS, ...STAN_BENCH_FLAGS, ...FAILOVER_BENCH_FLAGS }, 'npm run bench -- --help');
  const only = flagValue(argv, 'only');
  const scale = Number(flagValue(argv, 'scale') ?? '1');
  if (!Number.isFinite(scale) || scale <= 0) throw new Error(`--scale must be a positive number, got ${flagValue(argv, 'scale')}`);
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
