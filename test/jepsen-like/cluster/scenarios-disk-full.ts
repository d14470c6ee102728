// Disk full (issue 12): one node's data directory sits on a small filesystem of its own (a tmpfs
// the harness mounts), which fills up while the cluster is loaded. tstan's answer
// (docs/clustering.md §7): the node whose write fails stops by itself — one fatal line naming
// ENOSPC and the file, exit code 74 — so it acknowledges nothing more; while the disk is still
// full it refuses to start, with the same code; once space returns it starts on its own data
// (nothing to wipe: nothing was corrupted) and catches up. The harness plays the supervisor that
// restarts it. The common checkers prove that no acknowledged message was lost and that every
// node ends with the same state; this file checks the node's own behaviour.
import type { ClusterScenario, ClusterScenarioContext } from './scenario.js';
import { delay, followersOf, pick } from './scenario-helpers.js';

/** sysexits EX_IOERR, as src/util/disk-full.ts (not imported: the harness judges tstan from outside). */
const EXIT_DISK_FULL = 74;
const DISK_BYTES = 48 * 1024 * 1024;
const STOP_WITHIN_MS = 15_000;
const REFUSED_STARTS = 2;
const DISK_FULL_LINE = /"code":"DISK_FULL"/;

async function waitStopped(ctx: ClusterScenarioContext, id: string, timeoutMs: number): Promise<boolean> {
  const node = ctx.cluster.node(id);
  const deadline = Date.now() + timeoutMs;
  while (node.running) {
    if (Date.now() > deadline) return false;
    await delay(50);
  }
  return true;
}

/** Lines of the node's log that say its disk is full (JSON fatal lines and the CLI's stderr line). */
function diskFullLines(ctx: ClusterScenarioContext, id: string): { fatal: string[]; refusals: string[]; errors: string[] } {
  const lines = ctx.cluster.node(id).lastLines(100_000);
  return {
    fatal: lines.filter((line) => DISK_FULL_LINE.test(line)),
    refusals: lines.filter((line) => line.startsWith('tstan: disk full (ENOSPC) on the filesystem of')),
    errors: ctx.cluster.node(id).errorLines(),
  };
}

async function fillUntilStopped(ctx: ClusterScenarioContext, victim: string): Promise<void> {
  const dataDir = ctx.cluster.dataDir(victim);
  const leaveBytes = 64 * 1024 + ctx.random.int(192 * 1024);
  const fillStartMs = Date.now();
  ctx.nemesis.fillDisk(victim, leaveBytes);
  ctx.note('leftBytes', leaveBytes);
  // The node's own writes under load use up what is left.
  let stopped = await waitStopped(ctx, victim, STOP_WITHIN_MS);
  if (!stopped) {
    ctx.note('filledToZero', true);
    ctx.nemesis.fillDisk(victim, 0);
    stopped = await waitStopped(ctx, victim, STOP_WITHIN_MS);
  }
  if (!stopped) {
    ctx.fail(`${victim} kept running ${2 * STOP_WITHIN_MS} ms after its disk was full`);
    return;
  }
  const node = ctx.cluster.node(victim);
  ctx.note('stoppedAfterMs', Date.now() - fillStartMs);
  ctx.note('exitCode', node.exitCode);
  if (node.exitCode !== EXIT_DISK_FULL) ctx.fail(`${victim} stopped on a full disk with exit code ${node.exitCode}, expected ${EXIT_DISK_FULL}`);
  const { fatal, errors } = diskFullLines(ctx, victim);
  ctx.note('fatalLine', fatal[0]?.slice(0, 400) ?? null);
  if (fatal.length !== 1) ctx.fail(`${victim} logged ${fatal.length} disk-full lines when it stopped (expected one)`);
  else if (!/ENOSPC/.test(fatal[0]!) || !fatal[0]!.includes(dataDir)) ctx.fail(`${victim}'s disk-full line names neither ENOSPC nor a file under ${dataDir}: ${fatal[0]}`);
  const others = errors.filter((line) => !DISK_FULL_LINE.test(line));
  if (others.length > 0) ctx.fail(`${victim} logged ${others.length} more error lines when its disk filled, first: ${others[0]!.slice(0, 300)}`);
}

/** The supervisor restarts it while the disk is still full: each start is refused with the code. */
async function restartsRefused(ctx: ClusterScenarioContext, victim: string): Promise<void> {
  const node = ctx.cluster.node(victim);
  let refused = 0;
  for (let attempt = 0; attempt < REFUSED_STARTS; attempt++) {
    try {
      await node.start(20_000);
      ctx.fail(`${victim} started while its disk was still full`);
      await node.stop();
      return;
    } catch {
      if (node.exitCode === EXIT_DISK_FULL) refused++;
      else ctx.fail(`${victim} refused to start on a full disk with exit code ${node.exitCode}, expected ${EXIT_DISK_FULL}`);
    }
  }
  const { refusals } = diskFullLines(ctx, victim);
  ctx.note('refusedStarts', refused);
  ctx.note('refusalLine', refusals[0]?.slice(0, 300) ?? null);
  if (refusals.length < REFUSED_STARTS) ctx.fail(`${victim} refused ${refused} starts but said why ${refusals.length} times`);
}

function diskFull(target: 'leader' | 'follower'): ClusterScenario {
  return {
    name: `disk-full-${target}`,
    number: 23,
    description:
      `the ${target}'s data directory, on a ${DISK_BYTES >> 20} MiB filesystem of its own, fills up under load: it stops by itself ` +
      `(one line naming ENOSPC and the file, exit ${EXIT_DISK_FULL}), refuses to start while the disk is full, and rejoins on its own data once space returns`,
    size: 3,
    diskBytes: DISK_BYTES,
    knownLogIssues: [{ pattern: DISK_FULL_LINE, why: 'the one fatal line of a node whose disk this scenario fills (checked by the scenario)' }],
    // The new leader is timed from the stop (notes), not from the fill: filling takes what the load takes.
    bounds: { longestAckGapMs: 3_000, convergeMs: 5_000, catchUpMs: 5_000 },
    faults: async (ctx) => {
      const leader = await ctx.leader();
      const victim = target === 'leader' ? leader.id : pick(ctx, followersOf(ctx, leader.id));
      ctx.note('victim', victim);
      await ctx.at(ctx.phases.faultMs * (0.15 + ctx.random.next() * 0.1));
      await fillUntilStopped(ctx, victim);
      if (target === 'leader') {
        const stoppedMs = Date.now();
        const next = await ctx.cluster.waitLeader({ not: [victim], timeoutMs: 30_000 });
        ctx.note('newLeaderAfterStopMs', Date.now() - stoppedMs);
        ctx.note('newLeader', next.id);
      }
      await restartsRefused(ctx, victim);
      await delay(Math.max(1_000, ctx.phases.faultMs * 0.1));
      ctx.nemesis.freeDisk(victim);
      const freedMs = Date.now();
      await ctx.nemesis.restart(victim);
      ctx.note('servesAgainAfterMs', Date.now() - freedMs);
      await ctx.measureCatchUp(`of ${victim} once space returned`);
    },
  };
}

export const diskFullScenarios: readonly ClusterScenario[] = [diskFull('follower'), diskFull('leader')];
