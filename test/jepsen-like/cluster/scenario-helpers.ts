// Small helpers the cluster scenarios share: seeded picks, the followers of a leader, the fault
// start and hold times as fractions of the fault phase, and a bounded poll.
import type { ClusterScenarioContext } from './scenario.js';

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function pick<T>(ctx: ClusterScenarioContext, items: readonly T[]): T {
  return items[ctx.random.int(items.length)]!;
}

export function followersOf(ctx: ClusterScenarioContext, leader: string): string[] {
  return ctx.cluster.members.filter((id) => id !== leader);
}

/** Fault start: a fifth into the phase plus up to a tenth of jitter. */
export function faultAt(ctx: ClusterScenarioContext): Promise<void> {
  return ctx.at(ctx.phases.faultMs * (0.2 + ctx.random.next() * 0.1));
}

/** Holds a fault for `fraction` of the phase (at least `minMs`). */
export function hold(ctx: ClusterScenarioContext, fraction: number, minMs: number): Promise<void> {
  return delay(Math.max(minMs, ctx.phases.faultMs * fraction));
}

/** Polls `check` until it holds; throws after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(100);
  }
}
