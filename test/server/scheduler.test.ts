// Proves the system scheduler's task clock: read once per task, so that a pass of deliveries costs
// one clock call, and read afresh in the next task, so that ack deadlines do not drift; the
// clock is made to move by spinning on it, never by sleeping.
import { describe, expect, it } from 'vitest';
import { setImmediate as nextTask } from 'node:timers/promises';
import { createSystemScheduler } from '../../src/server/scheduler.js';

function spinPast(ms: number): void {
  while (Date.now() <= ms) {
    // The clock is what is being waited for.
  }
}

describe('createSystemScheduler().taskNowMs', () => {
  it('stays put within a task and moves on in the next one', async () => {
    const scheduler = createSystemScheduler();
    const first = scheduler.taskNowMs!();
    spinPast(first);
    expect(scheduler.nowMs()).toBeGreaterThan(first);
    expect(scheduler.taskNowMs!()).toBe(first);
    await nextTask();
    const later = scheduler.taskNowMs!();
    expect(later).toBeGreaterThan(first);
    expect(later).toBeLessThanOrEqual(scheduler.nowMs());
  });

  it('is read afresh after the microtasks of a task, too', async () => {
    const scheduler = createSystemScheduler();
    const first = scheduler.taskNowMs!();
    spinPast(first);
    await Promise.resolve();
    await Promise.resolve();
    expect(scheduler.taskNowMs!()).toBeGreaterThan(first);
  });

  it('is its own per scheduler', () => {
    const a = createSystemScheduler();
    const b = createSystemScheduler();
    const first = a.taskNowMs!();
    spinPast(first);
    expect(b.taskNowMs!()).toBeGreaterThan(first);
    expect(a.taskNowMs!()).toBe(first);
  });
});
