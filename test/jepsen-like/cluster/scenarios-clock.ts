// Scenario 20 of docs/testing.md §5.6, clock skew: every node runs under libfaketime
// (wall-clock.ts; monotonic clocks untouched, as after an NTP step or an operator's `date -s`).
// Raft runs on ticks of the monotonic clock, so no wall-clock step may cause an election or touch
// safety. Three runs:
// - clock-step-leader / clock-step-follower: one node's wall clock stepped +30 s, then to -30 s
//   (a 60 s step back), then back to true, under load; zero elections, zero leader changes.
// - clock-skew: a follower -30 s and the third node strobing +-5 s, then the leader +30 s while it
//   leads; later the leader is killed (and restarted), so that a node whose clock is behind stamps
//   messages after one whose clock was ahead; at the end every clock steps back to true.
// The leader stamps each message with its wall clock, kept non-decreasing per channel: each run
// reports how far timestamps ran ahead of real time and how long they stood still, and fails if
// one went backwards along a channel's sequences.
import type { Op } from '../history.js';
import type { AcceptanceInput, ClusterScenario, ClusterScenarioContext } from './scenario.js';
import { delay, followersOf, pick } from './scenario-helpers.js';
import { WallClocks } from './wall-clock.js';

const SKEW_MS = 30_000;
const STROBE_MS = 5_000;
const STROBE_EVERY_MS = 500;

/** Each node's wall clock minus the harness's, read from its /streaming/serverz `now`. */
async function observedOffsets(ctx: ClusterScenarioContext): Promise<Record<string, number | null>> {
  const out: Record<string, number | null> = {};
  for (const id of ctx.cluster.running) {
    try {
      const before = Date.now();
      const response = await fetch(`${ctx.cluster.node(id).monitorUrl}/streaming/serverz`, { signal: AbortSignal.timeout(2_000) });
      const body = (await response.json()) as { now?: string };
      out[id] = body.now === undefined ? null : Date.parse(body.now) - Math.round((before + Date.now()) / 2);
    } catch {
      out[id] = null;
    }
  }
  return out;
}

/**
 * Steps and waits until the node's clock shows it: libfaketime re-reads its file only once more
 * than FAKETIME_CACHE_DURATION whole seconds passed, so a step lands within about two seconds.
 */
async function stepAndSee(ctx: ClusterScenarioContext, clocks: WallClocks, id: string, offsetMs: number): Promise<void> {
  clocks.step(id, offsetMs);
  const deadline = Date.now() + 6_000;
  for (;;) {
    const seen = (await observedOffsets(ctx))[id];
    if (seen !== null && seen !== undefined && Math.abs(seen - offsetMs) < 1_000) return;
    if (Date.now() > deadline) {
      ctx.fail(`node ${id}'s clock did not step to ${offsetMs} ms (it shows ${seen}): libfaketime not in effect?`);
      return;
    }
    await delay(200);
  }
}

export interface TimestampFigures {
  /** Messages whose timestamp is lower than the one before it in the channel (must be 0). */
  readonly backwards: number;
  /** Largest timestamp minus real time at the publish's ack (the +30 s leader's stamps). */
  readonly aheadMsMax: number;
  /** Largest real time at the ack minus timestamp (stamps held back by the clamp). */
  readonly behindMsMax: number;
  /** Longest real time over which one channel's timestamps did not move. */
  readonly standstillMsMax: number;
}

/** From the history: deliveries give each sequence's timestamp, acks when it was really published. */
export function timestampFigures(ops: readonly Op[], wallAtMonoNs: (tMonoNs: number) => number): TimestampFigures {
  const ackedAt = new Map<string, number>();
  for (const op of ops) if (op.f === 'publish' && op.type === 'ok' && op.value !== undefined) ackedAt.set(op.value, wallAtMonoNs(op.tMonoNs));
  const stamps = new Map<string, Map<number, { ts: number; value: string }>>();
  for (const op of ops) {
    if (op.f !== 'deliver' || op.type !== 'ok' || op.timestampMs === undefined || op.seq === undefined || op.channel === undefined) continue;
    let channel = stamps.get(op.channel);
    if (channel === undefined) stamps.set(op.channel, (channel = new Map()));
    channel.set(op.seq, { ts: op.timestampMs, value: op.value ?? '' });
  }
  let backwards = 0;
  let aheadMsMax = 0;
  let behindMsMax = 0;
  let standstillMsMax = 0;
  for (const channel of stamps.values()) {
    let previous: { ts: number; at: number | undefined } | undefined;
    let stillSinceMs: number | undefined;
    for (const seq of [...channel.keys()].sort((a, b) => a - b)) {
      const { ts, value } = channel.get(seq)!;
      const at = ackedAt.get(value);
      if (at !== undefined) {
        aheadMsMax = Math.max(aheadMsMax, ts - at);
        behindMsMax = Math.max(behindMsMax, at - ts);
      }
      if (previous !== undefined && ts < previous.ts) backwards++;
      if (previous !== undefined && ts === previous.ts && at !== undefined) {
        stillSinceMs ??= previous.at ?? at;
        standstillMsMax = Math.max(standstillMsMax, at - stillSinceMs);
      } else if (previous === undefined || ts !== previous.ts) stillSinceMs = undefined;
      previous = { ts, at };
    }
  }
  return { backwards, aheadMsMax: Math.round(aheadMsMax), behindMsMax: Math.round(behindMsMax), standstillMsMax: Math.round(standstillMsMax) };
}

export const clockSkewScenario: ClusterScenario = {
  name: 'clock-skew',
  number: 20,
  description:
    'wall clocks stepped under libfaketime (monotonic untouched): a follower -30 s and another strobing +-5 s, then the leader +30 s while it leads, ' +
    'then it is killed and a node behind leads; no election but the kill\'s, message timestamps never go back along a channel',
  size: 3,
  nodeEnv: (id, runDir) => new WallClocks(runDir).envFor(id),
  bounds: { longestAckGapMs: 3_000, convergeMs: 5_000, newLeaderMs: 2_500 },
  faults: async (ctx) => {
    const clocks = new WallClocks(ctx.cluster.runDir);
    // Real time of a point on the history's monotonic clock, for the timestamp figures.
    ctx.note('wallAnchor', { wallMs: Date.now(), tMonoNs: ctx.history.nowNs() });
    const leader = await ctx.leader();
    const followers = followersOf(ctx, leader.id);
    const behind = pick(ctx, followers);
    const strobing = followers.find((id) => id !== behind)!;
    ctx.note('roles', { leader: leader.id, behind, strobing });
    await ctx.at(ctx.phases.faultMs * 0.15);
    await stepAndSee(ctx, clocks, behind, -SKEW_MS);
    let strobe = true;
    let sign = 1;
    const strobing$ = (async () => {
      while (strobe) {
        clocks.step(strobing, sign * STROBE_MS);
        sign = -sign;
        await delay(STROBE_EVERY_MS);
      }
    })();
    await ctx.at(ctx.phases.faultMs * 0.3);
    await stepAndSee(ctx, clocks, leader.id, SKEW_MS);
    ctx.note('offsetsWhileSkewed', await observedOffsets(ctx));
    await ctx.at(ctx.phases.faultMs * 0.55);
    // SIGKILL, not a hand-over: a hand-over parks requests and passes them on later, which can
    // reorder one publisher's messages by itself (reported apart; not a clock matter).
    await ctx.nemesis.kill(leader.id);
    const next = await ctx.cluster.waitLeader({ not: [leader.id], timeoutMs: 30_000 });
    ctx.note('leaderAfterKill', next.id);
    await ctx.nemesis.restart(leader.id);
    await ctx.at(ctx.phases.faultMs * 0.8);
    strobe = false;
    await strobing$;
    // libfaketime re-reads its file when more than a whole second passed: wait until each shows it.
    for (const id of ctx.cluster.ids) await stepAndSee(ctx, clocks, id, 0);
    ctx.note('offsetsAtEnd', await observedOffsets(ctx));
  },
  // The kill is the one leader change: one election, one term (the restarted node deposes nobody).
  accept: (input) => acceptClockRun(input, 1),
};

/**
 * A clock run's own acceptance: no election beyond `electionsExpected` (the kill's), and message
 * timestamps never back along a channel.
 */
function acceptClockRun({ cluster, ops, notes, note }: AcceptanceInput, electionsExpected: number): string[] {
  const reasons: string[] = [];
  const why = electionsExpected === 0 ? 'none expected' : "only the kill's expected";
  if (cluster.leaderChanges > electionsExpected) reasons.push(`${cluster.leaderChanges} leader changes (${why}): a clock step caused an election`);
  if (cluster.elections > electionsExpected) reasons.push(`${cluster.elections} elections (${why})`);
  if (cluster.termGrowth > electionsExpected) reasons.push(`term grew by ${cluster.termGrowth} (${why})`);
  const anchor = notes['wallAnchor'] as { wallMs: number; tMonoNs: number } | undefined;
  if (anchor === undefined) return [...reasons, 'no wall-clock anchor: the fault schedule did not run'];
  const stamps = timestampFigures(ops, (tMonoNs) => anchor.wallMs + (tMonoNs - anchor.tMonoNs) / 1e6);
  note('timestamps', stamps);
  if (stamps.backwards > 0) reasons.push(`${stamps.backwards} message timestamps went back along a channel's sequences`);
  return reasons;
}

/** One node's wall clock +30 s, then -30 s, then true, under load: nothing else happens. */
function clockStepScenario(target: 'leader' | 'follower'): ClusterScenario {
  return {
    name: `clock-step-${target}`,
    number: 20,
    description:
      `the ${target}'s wall clock stepped +30 s, then to -30 s (60 s back), then to true, under libfaketime (monotonic untouched); ` +
      'no election, no leader change, message timestamps never go back along a channel',
    size: 3,
    nodeEnv: (id, runDir) => new WallClocks(runDir).envFor(id),
    bounds: { longestAckGapMs: 1_000, convergeMs: 5_000 },
    faults: async (ctx) => {
      const clocks = new WallClocks(ctx.cluster.runDir);
      ctx.note('wallAnchor', { wallMs: Date.now(), tMonoNs: ctx.history.nowNs() });
      const leader = await ctx.leader();
      const victim = target === 'leader' ? leader.id : pick(ctx, followersOf(ctx, leader.id));
      ctx.note('roles', { leader: leader.id, stepped: victim });
      await ctx.at(ctx.phases.faultMs * 0.15);
      await stepAndSee(ctx, clocks, victim, SKEW_MS);
      ctx.note('offsetsAhead', await observedOffsets(ctx));
      await ctx.at(ctx.phases.faultMs * 0.45);
      await stepAndSee(ctx, clocks, victim, -SKEW_MS);
      ctx.note('offsetsBehind', await observedOffsets(ctx));
      await ctx.at(ctx.phases.faultMs * 0.75);
      await stepAndSee(ctx, clocks, victim, 0);
      ctx.note('offsetsAtEnd', await observedOffsets(ctx));
      const after = await ctx.leader();
      if (after.id !== leader.id || after.term !== leader.term) ctx.fail(`leadership moved from ${leader.id} (term ${leader.term}) to ${after.id} (term ${after.term}) across the clock steps`);
    },
    accept: (input) => acceptClockRun(input, 0),
  };
}

export const clockStepScenarios: readonly ClusterScenario[] = [clockStepScenario('leader'), clockStepScenario('follower')];
