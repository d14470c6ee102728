// Scenario 18 of docs/testing.md §5.6, membership change under faults (N=5, the NATS#7545 class):
// a follower is cut off for the whole phase; a spare node is added through a node's monitoring
// port (`/streaming/clusterz/add?node=`) and the leader is SIGKILLed while the change is in
// flight; once the spare votes, a follower is removed (`/remove?node=`) and the leader is killed
// again while that change is in flight. An operator retries a change whose answer was lost, as
// the answer of a change cut short by a kill is unknown. Then the partition heals. Checked, beyond
// the common checkers: every change ends applied exactly as asked (the spare a voter, the removed
// node in no configuration), and every member, the one cut off included, ends with the same
// configuration.
import type { ClusterScenario, ClusterScenarioContext } from './scenario.js';
import { delay, faultAt, followersOf, hold, pick } from './scenario-helpers.js';

const SPARE = 'f';
const CHANGE_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 8_000;

type Change = 'add' | 'remove';

/** Asks `via` (any member) to forward a change to the leader; the answer, or why there is none. */
async function requestChange(ctx: ClusterScenarioContext, via: string, change: Change, node: string): Promise<string> {
  try {
    const response = await fetch(`${ctx.cluster.node(via).monitorUrl}/streaming/clusterz/${change}?node=${node}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const body = (await response.json()) as { answer?: string; error?: string };
    return body.answer ?? body.error ?? `HTTP ${response.status}`;
  } catch (error) {
    return `no answer (${error instanceof Error ? error.message : String(error)})`;
  }
}

/** The leader's configuration holds the change: the node votes (add) or is gone (remove). */
async function changeApplied(ctx: ClusterScenarioContext, change: Change, node: string): Promise<boolean> {
  const leader = await ctx.leader();
  const view = (await ctx.cluster.view(leader.id)) as { voters: readonly string[]; non_voters?: readonly string[] } | undefined;
  if (view === undefined) return false;
  const member = view.voters.includes(node) || (view.non_voters ?? []).includes(node);
  return change === 'add' ? view.voters.includes(node) : !member;
}

/**
 * Asks for the change and SIGKILLs the leader a moment later, while it is in flight; restarts
 * the killed leader once another leads, then retries the change (as an operator whose request
 * went unanswered would) until the leader's configuration shows it. Returns the answers.
 */
async function changeWhileLeaderDies(ctx: ClusterScenarioContext, change: Change, node: string, cutOff: string): Promise<string[]> {
  const leader = await ctx.leader();
  const via = pick(ctx, followersOf(ctx, leader.id).filter((id) => id !== cutOff && id !== node && ctx.cluster.node(id).running));
  const answers: string[] = [];
  const asked = requestChange(ctx, via, change, node).then((answer) => void answers.push(answer));
  await delay(ctx.random.int(40));
  await ctx.nemesis.kill(leader.id);
  await asked;
  await ctx.cluster.waitLeader({ not: [leader.id], timeoutMs: 30_000 });
  await ctx.nemesis.restart(leader.id);
  const deadline = Date.now() + CHANGE_TIMEOUT_MS;
  while (!(await changeApplied(ctx, change, node))) {
    if (Date.now() > deadline) throw new Error(`${change} ${node} not applied within ${CHANGE_TIMEOUT_MS} ms; answers: ${answers.join(' | ')}`);
    const current = await ctx.leader();
    const retryVia = followersOf(ctx, current.id).find((id) => id !== cutOff && id !== node && ctx.cluster.node(id).running) ?? current.id;
    // A non-voter being caught up is promoted by the leader itself: asking again would be refused.
    const pending = change === 'add' && ((await ctx.cluster.view(current.id)) as { non_voters?: readonly string[] } | undefined)?.non_voters?.includes(node) === true;
    if (!pending) answers.push(`retry: ${await requestChange(ctx, retryVia, change, node)}`);
    await delay(500);
  }
  return answers;
}

/** Waits until `id` has applied what the leader had committed (others may be cut off); returns the ms. */
async function caughtUp(ctx: ClusterScenarioContext, id: string): Promise<number> {
  const startMs = Date.now();
  const leader = await ctx.leader();
  const target = (await ctx.cluster.view(leader.id))?.commit ?? 0;
  while (((await ctx.cluster.view(id))?.applied ?? 0) < target) {
    if (Date.now() - startMs > CHANGE_TIMEOUT_MS) throw new Error(`${id} did not apply ${target} within ${CHANGE_TIMEOUT_MS} ms`);
    await delay(50);
  }
  return Date.now() - startMs;
}

/** Every running member reports the same voters, equal to `expected`; polls until the deadline. */
async function configurationConverged(ctx: ClusterScenarioContext, expected: readonly string[], timeoutMs: number): Promise<string | undefined> {
  const want = [...expected].sort().join(',');
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const views = await Promise.all(ctx.cluster.running.map(async (id) => [id, await ctx.cluster.view(id)] as const));
    const seen = views.map(([id, v]) => `${id}:${v === undefined ? '?' : [...v.voters].sort().join(',')}`);
    if (views.every(([, v]) => v !== undefined && [...v.voters].sort().join(',') === want)) return undefined;
    last = seen.join(' ');
    if (Date.now() > deadline) return `configuration did not converge on ${want} within ${timeoutMs} ms: ${last}`;
    await delay(200);
  }
}

export const membershipScenario: ClusterScenario = {
  name: 'membership-under-faults',
  number: 18,
  description:
    `N=5: a follower cut off throughout; spare ${SPARE} added through the monitoring port while the leader is killed, ` +
    'then a follower removed while the leader is killed again; changes retried as an operator would; every member ends with one configuration',
  size: 5,
  spares: 1,
  args: ['--cluster_allow_add_remove_node'],
  workload: { publishers: 3, publishRateHz: 40 },
  bounds: { longestAckGapMs: 3_000, convergeMs: 5_000 },
  faults: async (ctx) => {
    const leader = await ctx.leader();
    const cutOff = pick(ctx, followersOf(ctx, leader.id));
    await faultAt(ctx);
    ctx.nemesis.network('isolate', cutOff, () => ctx.cluster.network.isolate(cutOff));
    ctx.note('cutOff', cutOff);

    // The spare starts with no state: it waits, gated, until the leader adds it.
    ctx.cluster.retired.delete(SPARE);
    await ctx.nemesis.restart(SPARE);
    const addStartMs = Date.now();
    ctx.note('addAnswers', await changeWhileLeaderDies(ctx, 'add', SPARE, cutOff));
    ctx.note('addAppliedMs', Date.now() - addStartMs);
    ctx.note('spareCaughtUpMs', await caughtUp(ctx, SPARE));

    const current = await ctx.leader();
    const removed = pick(ctx, followersOf(ctx, current.id).filter((id) => id !== cutOff && id !== SPARE));
    ctx.note('removed', removed);
    const removeStartMs = Date.now();
    ctx.note('removeAnswers', await changeWhileLeaderDies(ctx, 'remove', removed, cutOff));
    ctx.note('removeAppliedMs', Date.now() - removeStartMs);
    // Decommissioned, as an operator would once the removal is applied.
    ctx.cluster.retired.add(removed);
    await ctx.cluster.node(removed).stop();

    await hold(ctx, 0.1, 1_000);
    ctx.nemesis.healNetwork();
    const expected = ctx.cluster.members;
    ctx.note('finalVoters', expected);
    const diverged = await configurationConverged(ctx, expected, 15_000);
    if (diverged !== undefined) ctx.fail(diverged);
  },
};
