// The cluster scenarios of docs/testing.md §5.6, in its run order, each a fault schedule within the
// fault phase (times are fractions of it, so short CI phases scale them down). The seed picks
// victims and jitter; everything else follows from the cluster's state (who leads). Bounds are
// the targets: a new leader within 2.5 s of a leader fault, acks never stopping for more
// than 3 s, convergence within 5 s of the heal.
import type { ClusterScenario, ClusterScenarioContext } from './scenario.js';
import { actedBeforeCatchUp } from './damage-checks.js';
import { delay, faultAt, followersOf, hold, pick, waitFor } from './scenario-helpers.js';
import { diskFullScenarios } from './scenarios-disk-full.js';
import { membershipScenario } from './scenarios-membership.js';
import { clockSkewScenario, clockStepScenarios } from './scenarios-clock.js';

/** A lazy variant runs without fsync before the ack and measures its loss instead of failing on it. */
function lazyOptions(lazy: boolean): Pick<ClusterScenario, 'args' | 'measuresLoss'> {
  return lazy ? { args: ['--cluster_sync=false'], measuresLoss: true } : {};
}

const LEADER_FAULT = { newLeaderMs: 2_500, newLeaderRequired: true, longestAckGapMs: 3_000, convergeMs: 5_000 } as const;
const unordered: readonly ClusterScenario[] = [
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
    description: 'SIGKILL the leader, restart it on its directory after 35% of the phase; it catches up within 5 s',
    size: 3,
    bounds: { ...LEADER_FAULT, catchUpMs: 5_000 },
    faults: async (ctx) => {
      const leader = await ctx.leader();
      await faultAt(ctx);
      await ctx.nemesis.kill(leader.id);
      await hold(ctx, 0.35, 2_000);
      await ctx.nemesis.restart(leader.id);
      await ctx.measureCatchUp(`of ${leader.id} after its restart`);
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
  {
    name: 'rolling-crash',
    number: 3,
    description: 'every 4 s SIGKILL a random node and restart it 2 s later, up to five rounds; never two down at once',
    size: 3,
    bounds: { longestAckGapMs: 3_000, convergeMs: 5_000 },
    faults: async (ctx) => {
      const rounds = Math.max(2, Math.min(5, Math.floor(ctx.phases.faultMs / 4_000)));
      const slot = ctx.phases.faultMs / rounds;
      for (let round = 0; round < rounds; round++) {
        await ctx.at(round * slot);
        const victim = pick(ctx, ctx.cluster.ids);
        await ctx.nemesis.kill(victim);
        await delay(Math.min(2_000, slot / 2));
        await ctx.nemesis.restart(victim);
        // The next round starts from a leader again (a kill must not find the cluster leaderless).
        await ctx.leader();
      }
    },
  },
  {
    name: 'split-2-3',
    number: 6,
    description: 'N=5 split into random halves of two and three for 10 s: the minority times out, the majority goes on',
    size: 5,
    workload: { publishers: 3, publishRateHz: 40 },
    bounds: { longestAckGapMs: 3_000, convergeMs: 5_000 },
    faults: async (ctx) => {
      const ids = [...ctx.cluster.ids];
      for (let i = ids.length - 1; i > 0; i--) {
        const j = ctx.random.int(i + 1);
        [ids[i], ids[j]] = [ids[j]!, ids[i]!];
      }
      const minority = ids.slice(0, 2);
      const majority = ids.slice(2);
      await faultAt(ctx);
      ctx.nemesis.network('partition', minority.join('+'), () => ctx.cluster.network.partition([minority, majority]));
      await hold(ctx, 0.5, 4_000);
      ctx.nemesis.healNetwork();
    },
  },
  {
    name: 'bridge',
    number: 7,
    description: 'N=5 bridge {L,x}-y-{z,w} for 10 s with the leader L on one side: only the follower y sees both sides',
    size: 5,
    workload: { publishers: 3, publishRateHz: 40 },
    bounds: { convergeMs: 5_000 },
    faults: async (ctx) => {
      const leader = await ctx.leader();
      const [x, y, z, w] = followersOf(ctx, leader.id) as [string, string, string, string];
      await faultAt(ctx);
      ctx.nemesis.network('bridge', y, () => {
        for (const left of [leader.id, x]) for (const right of [z, w]) ctx.cluster.network.blockBoth(left, right);
      });
      await hold(ctx, 0.5, 4_000);
      ctx.nemesis.healNetwork();
    },
    accept: ({ cluster }) => (cluster.leaderChanges > 2 ? [`${cluster.leaderChanges} leader changes under a bridge (at most 2)`] : []),
  },
  {
    name: 'majorities-ring',
    number: 8,
    description: 'N=5 ring for 10 s: each node sees its two neighbours, a different majority each; reports whether a stable leader emerged',
    size: 5,
    workload: { publishers: 3, publishRateHz: 40 },
    bounds: { convergeMs: 5_000 },
    faults: async (ctx) => {
      const ids = ctx.cluster.ids;
      await faultAt(ctx);
      ctx.nemesis.network('ring', 'all', () => {
        for (let i = 0; i < ids.length; i++) ctx.cluster.network.blockBoth(ids[i]!, ids[(i + 2) % ids.length]!);
      });
      await hold(ctx, 0.5, 4_000);
      ctx.nemesis.healNetwork();
    },
  },
  {
    name: 'follower-link-cut',
    number: 10,
    description: 'one follower-follower link cut for 15 s: PreVote and CheckQuorum keep the leader (no leader change)',
    size: 3,
    bounds: { longestAckGapMs: 3_000, convergeMs: 5_000 },
    faults: async (ctx) => {
      const leader = await ctx.leader();
      const [x, y] = followersOf(ctx, leader.id) as [string, string];
      await faultAt(ctx);
      ctx.nemesis.network('link-cut', `${x}-${y}`, () => ctx.cluster.network.blockBoth(x, y));
      await hold(ctx, 0.7, 5_000);
      ctx.nemesis.healNetwork();
    },
    accept: ({ cluster }) => [
      ...(cluster.leaderChanges > 0 ? [`${cluster.leaderChanges} leader changes with only a follower link cut (expected 0)`] : []),
      ...(cluster.termGrowth > 2 ? [`term grew by ${cluster.termGrowth} (at most 2)`] : []),
    ],
  },
  {
    name: 'leader-link-cut',
    number: 10,
    description: 'the link between the leader and one follower cut for 15 s: at most one leader change, terms grow by at most 2',
    size: 3,
    bounds: { longestAckGapMs: 3_000, convergeMs: 5_000 },
    faults: async (ctx) => {
      const leader = await ctx.leader();
      const follower = pick(ctx, followersOf(ctx, leader.id));
      await faultAt(ctx);
      ctx.nemesis.network('link-cut', `${leader.id}-${follower}`, () => ctx.cluster.network.blockBoth(leader.id, follower));
      await hold(ctx, 0.7, 5_000);
      ctx.nemesis.healNetwork();
    },
    accept: ({ cluster }) => [
      ...(cluster.leaderChanges > 1 ? [`${cluster.leaderChanges} leader changes with one leader link cut (at most 1)`] : []),
      ...(cluster.termGrowth > 2 ? [`term grew by ${cluster.termGrowth} (at most 2)`] : []),
    ],
  },
  {
    name: 'rejoin-no-inflation',
    number: 11,
    description: 'a follower isolated for most of the phase, then healed: its term does not grow while cut off, and the leader is not deposed',
    size: 3,
    bounds: { longestAckGapMs: 3_000, convergeMs: 5_000 },
    faults: async (ctx) => {
      const leader = await ctx.leader();
      const follower = pick(ctx, followersOf(ctx, leader.id));
      await faultAt(ctx);
      ctx.nemesis.network('isolate', follower, () => ctx.cluster.network.isolate(follower));
      await hold(ctx, 0.7, 5_000);
      ctx.nemesis.healNetwork();
    },
    accept: ({ cluster }) => [
      ...(cluster.termGrowth > 0 ? [`term grew by ${cluster.termGrowth} with only a follower cut off (PreVote should keep it)`] : []),
      ...(cluster.leaderChanges > 0 ? [`${cluster.leaderChanges} leader changes: the rejoining follower deposed the leader`] : []),
    ],
  },
  {
    name: 'lagging-follower-snapshot',
    number: 12,
    description: 'trailing logs 200: a follower cut off while the log grows past them and the leader snapshots and compacts; on heal it catches up by InstallSnapshot, once',
    size: 3,
    args: ['--cluster_trailing_logs', '200'],
    bounds: { longestAckGapMs: 3_000, convergeMs: 5_000, catchUpMs: 10_000 },
    faults: async (ctx) => {
      const leader = await ctx.leader();
      const follower = pick(ctx, followersOf(ctx, leader.id));
      await faultAt(ctx);
      ctx.nemesis.network('isolate', follower, () => ctx.cluster.network.isolate(follower));
      const start = (await ctx.cluster.view(leader.id))?.commit ?? 0;
      // Well past the 200 trailing entries the leader keeps after its snapshot.
      await waitFor(() => ctx.cluster.view(leader.id).then((v) => (v?.commit ?? 0) >= start + 600), Math.max(15_000, ctx.phases.faultMs * 0.6), 'the log to grow past the trailing logs');
      const current = await ctx.leader();
      await ctx.cluster.snapshot(current.id);
      ctx.nemesis.healNetwork();
      await ctx.measureCatchUp(`of ${follower} by snapshot`);
    },
    accept: ({ cluster }) => [
      ...(cluster.snapshotInstalls < 1 ? ['the lagging follower never installed a snapshot'] : []),
      ...(cluster.snapshotInstalls > 2 ? [`${cluster.snapshotInstalls} snapshot installs (a loop?)`] : []),
    ],
  },
  {
    name: 'leader-handover',
    number: 19,
    description: 'three graceful restarts (SIGTERM) of the current leader 3 s apart: each hands over, no gap between acks over 1 s',
    size: 3,
    bounds: { longestAckGapMs: 1_000, convergeMs: 5_000 },
    faults: async (ctx) => {
      const rounds = 3;
      for (let round = 0; round < rounds; round++) {
        await ctx.at((ctx.phases.faultMs / rounds) * round);
        const leader = await ctx.leader();
        await ctx.nemesis.gracefulRestart(ctx.cluster.node(leader.id));
      }
    },
  },
  {
    name: 'slow-lossy-links',
    number: 21,
    description: "100 +- 50 ms delay and 5% message-frame loss on one follower's links for 15 s: throughput drops, the leader stays",
    size: 3,
    bounds: { convergeMs: 5_000 },
    faults: async (ctx) => {
      const leader = await ctx.leader();
      const follower = pick(ctx, followersOf(ctx, leader.id));
      await faultAt(ctx);
      ctx.nemesis.network('slow-links', follower, () => {
        for (const other of ctx.cluster.ids) if (other !== follower) ctx.cluster.network.degrade(follower, other, { delayMs: 100, jitterMs: 50, dropProbability: 0.05 });
      });
      await hold(ctx, 0.7, 5_000);
      ctx.nemesis.healNetwork();
    },
    accept: ({ cluster }) => (cluster.leaderChanges > 0 ? [`${cluster.leaderChanges} leader changes while the leader kept a clean quorum`] : []),
  },
  {
    name: 'cluster-consumer-crash',
    number: 22,
    description: '10% of acks dropped; a durable and a queue member lose their connection mid-batch and resume on another node',
    size: 3,
    bounds: { convergeMs: 5_000 },
    faults: async (ctx) => {
      for (const s of ctx.workload.subscribers) s.ackDropProbability = 0.1;
      const channels = ctx.workload.config.channels;
      const channel = pick(ctx, channels);
      const durable = ctx.workload.subscribers.find((s) => s.channel === channel && s.spec.readerKind === 'durable');
      const member = ctx.workload.subscribers.find((s) => s.channel === channel && s.spec.readerKind === 'queue');
      await ctx.at(ctx.phases.faultMs * 0.25);
      if (durable) await ctx.nemesis.crashConsumer(durable, 32, 1_500);
      await ctx.at(ctx.phases.faultMs * 0.6);
      if (member) await ctx.nemesis.crashConsumer(member, 16, 1_500);
    },
  },
  {
    name: 'crash-during-snapshot',
    number: 13,
    description: 'the leader is asked for a snapshot and loses power while it writes it: it restarts cleanly (atomic rename) and its log agrees',
    size: 3,
    bounds: { ...LEADER_FAULT, catchUpMs: 5_000 },
    faults: async (ctx) => {
      const leader = await ctx.leader();
      await faultAt(ctx);
      const snapshot = ctx.cluster.snapshot(leader.id).catch(() => undefined);
      // A few milliseconds in: the state is being serialized or written.
      await delay(1 + ctx.random.int(20));
      await ctx.nemesis.powerFail([leader.id]);
      await snapshot;
      await hold(ctx, 0.2, 1_500);
      await ctx.nemesis.restartAfterDamage(leader.id);
      await ctx.measureCatchUp(`of ${leader.id} after its restart`);
    },
  },
  // Each power-loss scenario twice: with fsync before the ack (the default; nothing acknowledged may
  // be lost) and with --cluster_sync=false (the reference's default), which measures what is lost.
  ...([false, true] as const).map(
    (lazy): ClusterScenario => ({
      name: lazy ? 'pause-power-loss-lazy' : 'pause-power-loss',
      number: 14,
      description:
        "Jepsen's pause-kill: pause a node; power-fail another; pause the third, continue the first, restart the second; continue all" +
        (lazy ? ' (--cluster_sync=false: measures how much acknowledged data is lost)' : ''),
      size: 3,
      bounds: { convergeMs: 5_000 },
      ...lazyOptions(lazy),
      faults: async (ctx) => {
        const ids = [...ctx.cluster.ids];
        const [paused, crashed, rest] = [ids.splice(ctx.random.int(3), 1)[0]!, ids.splice(ctx.random.int(2), 1)[0]!, ids[0]!];
        await faultAt(ctx);
        ctx.nemesis.suspend(paused);
        await hold(ctx, 0.2, 2_000);
        await ctx.nemesis.powerFail([crashed]);
        await hold(ctx, 0.1, 1_000);
        ctx.nemesis.suspend(rest);
        ctx.nemesis.resume(paused);
        // Unsynced, the crashed node's files may be past repair: it is wiped and rejoins if it refuses.
        await (lazy ? ctx.nemesis.restartAfterDamage(crashed) : ctx.nemesis.restart(crashed));
        await hold(ctx, 0.2, 2_000);
        ctx.nemesis.resume(rest);
      },
    }),
  ),
  ...([false, true] as const).flatMap((tear) =>
    ([false, true] as const).map(
      (lazy): ClusterScenario => ({
        name: `power-loss-all${tear ? '-torn' : ''}${lazy ? '-lazy' : ''}`,
        number: 15,
        description:
          `every node loses power at once under load (files cut back to what was fsynced${tear ? ', one tail torn: whole sectors of unsynced data kept, the last garbage' : ''}), then all restart: ` +
          (lazy ? 'with --cluster_sync=false, measures how much acknowledged data is lost' : 'nothing acknowledged is lost'),
        size: 3,
        bounds: { catchUpMs: 5_000, convergeMs: 5_000 },
        ...lazyOptions(lazy),
        faults: async (ctx) => {
          await faultAt(ctx);
          await ctx.nemesis.powerFail(ctx.cluster.ids, { tear });
          await hold(ctx, 0.1, 500);
          await Promise.all(ctx.cluster.ids.map((id) => (lazy ? ctx.nemesis.restartAfterDamage(id) : ctx.nemesis.restart(id))));
          await ctx.measureCatchUp('of the cluster after power returned');
        },
      }),
    ),
  ),
  {
    name: 'torn-raft-tail',
    number: 16,
    description: "a node is killed and 1-4096 bytes are cut off its Raft log's tail, synced ones included (or garbage appended); it restarts and resyncs",
    size: 3,
    bounds: { convergeMs: 5_000, catchUpMs: 5_000 },
    faults: async (ctx) => {
      const victim = pick(ctx, ctx.cluster.ids);
      await faultAt(ctx);
      await ctx.nemesis.kill(victim);
      ctx.nemesis.damageRaftTail(victim, 1 + ctx.random.int(4096), ctx.random.next() < 0.5 ? 'cut' : 'garbage');
      await hold(ctx, 0.1, 500);
      await ctx.nemesis.restartAfterDamage(victim);
      await ctx.measureCatchUp(`of ${victim} after its restart`);
    },
    accept: ({ traces, faults }) => actedBeforeCatchUp(traces, faults, /^raft-tail/),
  },
  {
    name: 'torn-tail-stale-majority',
    number: 16,
    description:
      "the hard case of a lost log tail: a follower is cut off (it falls behind); the other follower, whose acks made every commit meanwhile, is killed and loses the synced tail of its Raft log; the leader is killed; the damaged and the stale node come back together",
    size: 3,
    faults: async (ctx) => {
      const leader = await ctx.leader();
      const [stale, damaged] = followersOf(ctx, leader.id) as [string, string];
      await faultAt(ctx);
      ctx.nemesis.network('isolate', stale, () => ctx.cluster.network.isolate(stale));
      await hold(ctx, 0.15, 1_500);
      await ctx.nemesis.kill(damaged);
      ctx.nemesis.damageRaftTail(damaged, 512 + ctx.random.int(3_584), 'cut');
      await ctx.nemesis.kill(leader.id);
      ctx.nemesis.healNetwork();
      // The damaged node must wait behind its catch-up gate (no vote for the stale node) until
      // the old leader, the only node holding what it lost, is back.
      await ctx.nemesis.restartAfterDamage(damaged, 15_000, async () => {
        await hold(ctx, 0.15, 1_500);
        await ctx.nemesis.restart(leader.id);
      });
    },
    accept: ({ traces, faults }) => actedBeforeCatchUp(traces, faults, /^raft-tail/),
  },
  ...(['raft-log', 'snapshot', 'messages'] as const).map(
    (target): ClusterScenario => ({
      name: `bit-flips-${target}`,
      number: 17,
      description: `two bits flipped mid-file in a stopped follower's ${target === 'raft-log' ? 'Raft log' : target === 'snapshot' ? 'newest Raft snapshot' : 'message file'}: detected; it never serves, votes or leads on it, and rebuilds from its peers`,
      size: 3,
      bounds: { convergeMs: 5_000 },
      faults: async (ctx) => {
        const leader = await ctx.leader();
        const victim = pick(ctx, followersOf(ctx, leader.id));
        await faultAt(ctx);
        if (target === 'snapshot') await ctx.cluster.snapshot(victim);
        await ctx.nemesis.kill(victim);
        const pattern = target === 'raft-log' ? /^\d+\.(log|ldb)$/ : target === 'snapshot' ? /\.snap$/ : /^msgs\.\d+\.dat$/;
        const change = ctx.nemesis.flipBitsIn(victim, pattern, 2, `bit-flips-${target}`);
        if (change === undefined) throw new Error(`no ${target} file to damage on ${victim}`);
        await hold(ctx, 0.1, 500);
        await ctx.nemesis.restartAfterDamage(victim);
        await ctx.measureCatchUp(`of ${victim} after its restart`);
      },
      accept: ({ traces, faults }) => actedBeforeCatchUp(traces, faults, /^bit-flips/),
    }),
  ),
];

/** In the run order of docs/testing.md §5.6 (by number; a variant after its original). */
export const clusterScenarios: readonly ClusterScenario[] = [...unordered, membershipScenario, ...clockStepScenarios, clockSkewScenario, ...diskFullScenarios].sort((a, b) => (a.number ?? 15.5) - (b.number ?? 15.5));

export function findClusterScenario(name: string): ClusterScenario | undefined {
  return clusterScenarios.find((s) => s.name === name);
}

export { pick, followersOf } from './scenario-helpers.js';
