// The cluster scenarios of docs/testing.md §5.6, in its run order, each a fault schedule within the
// fault phase (times are fractions of it, so short CI phases scale them down). The seed picks
// victims and jitter; everything else follows from the cluster's state (who leads). Bounds are
// the targets: a new leader within 2.5 s of a leader fault, acks never stopping for more
// than 3 s, convergence within 5 s of the heal.
import type { ClusterScenario, ClusterScenarioContext } from './scenario.js';

const LEADER_FAULT = { newLeaderMs: 2_500, newLeaderRequired: true, longestAckGapMs: 3_000, convergeMs: 5_000 } as const;
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function pick<T>(ctx: ClusterScenarioContext, items: readonly T[]): T {
  return items[ctx.random.int(items.length)]!;
}

function followersOf(ctx: ClusterScenarioContext, leader: string): string[] {
  return ctx.cluster.ids.filter((id) => id !== leader);
}

/** Fault start: a fifth into the phase plus up to a tenth of jitter. */
function faultAt(ctx: ClusterScenarioContext): Promise<void> {
  return ctx.at(ctx.phases.faultMs * (0.2 + ctx.random.next() * 0.1));
}

/** Holds a fault for `fraction` of the phase (at least `minMs`). */
function hold(ctx: ClusterScenarioContext, fraction: number, minMs: number): Promise<void> {
  return delay(Math.max(minMs, ctx.phases.faultMs * fraction));
}

export const clusterScenarios: readonly ClusterScenario[] = [
  {
    name: 'cluster-baseline',
    number: 1,
    description: 'no faults: no election after warm-up; its publish p99 is the reference',
    size: 3,
    faults: async () => {},
    accept: ({ cluster }) => (cluster.elections > 0 ? [`${cluster.elections} elections without a fault`] : []),
  },
  {
    name: 'leader-kill',
    number: 2,
    description: 'SIGKILL the leader, restart it on its directory after 35% of the phase',
    size: 3,
    bounds: LEADER_FAULT,
    faults: async (ctx) => {
      const leader = await ctx.leader();
      await faultAt(ctx);
      await ctx.nemesis.kill(leader.id);
      await hold(ctx, 0.35, 2_000);
      await ctx.nemesis.restart(leader.id);
    },
  },
  {
    name: 'leader-pause',
    number: 4,
    description: 'SIGSTOP the leader for 6 s (past the election timeout), then SIGCONT: it steps down and acks nothing from its old term',
    size: 3,
    bounds: LEADER_FAULT,
    faults: async (ctx) => {
      const leader = await ctx.leader();
      await faultAt(ctx);
      ctx.nemesis.suspend(leader.id);
      await delay(Math.min(6_000, ctx.phases.faultMs * 0.5));
      ctx.nemesis.resume(leader.id);
    },
  },
  {
    name: 'isolated-leader',
    number: 5,
    description: 'cut the leader from every peer for 8 s while its clients stay attached: they get timeouts, never false acks',
    size: 3,
    bounds: LEADER_FAULT,
    faults: async (ctx) => {
      const leader = await ctx.leader();
      await faultAt(ctx);
      ctx.nemesis.network('isolate', leader.id, () => ctx.cluster.network.isolate(leader.id));
      await hold(ctx, 0.45, 3_000);
      ctx.nemesis.healNetwork();
    },
  },
  {
    name: 'leader-deaf',
    number: 9,
    description: 'the leader sends but hears nothing for 8 s: CheckQuorum steps it down (one election timeout), then the others time out and elect',
    size: 3,
    // Step-down after an election timeout, then the followers' own timeout: up to two, so 4 s.
    bounds: { ...LEADER_FAULT, newLeaderMs: 4_000, longestAckGapMs: 4_500 },
    faults: async (ctx) => {
      const leader = await ctx.leader();
      await faultAt(ctx);
      ctx.nemesis.network('leader-deaf', leader.id, () => {
        for (const other of followersOf(ctx, leader.id)) ctx.cluster.network.block(other, leader.id);
      });
      await hold(ctx, 0.45, 3_000);
      ctx.nemesis.healNetwork();
    },
  },
];

export function findClusterScenario(name: string): ClusterScenario | undefined {
  return clusterScenarios.find((s) => s.name === name);
}

export { pick, followersOf };
