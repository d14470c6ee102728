// Proves the drain's wait judges a reader by whether it stopped, not by how long a channel takes
// to read: a reader that keeps getting new sequences is waited for however long it takes, one
// that gets nothing new for the limit is given up on, redeliveries are not progress, and the
// readers of a group cover the channel between them. Fake timers: no real waiting.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { waitCovered } from './workload.js';

const POLL_MS = 20;

describe('the drain waits while readers progress', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits for a slow reader far past the limit, as long as it keeps reading', async () => {
    const seen = new Set<number>();
    let settled: boolean | undefined;
    void waitCovered([seen], 300, 1_000).then((done) => (settled = done));
    // One new sequence every 500 ms: 150 s for the channel, against a 1 s limit.
    for (let seq = 1; seq <= 300; seq++) {
      seen.add(seq);
      await vi.advanceTimersByTimeAsync(500);
      if (seq < 300) expect(settled, `at ${seq}`).toBeUndefined();
    }
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(settled).toBe(true);
  });

  it('gives up on a reader that gets nothing new for the limit; redeliveries are not progress', async () => {
    const seen = new Set<number>([1, 2, 3]);
    let settled: boolean | undefined;
    void waitCovered([seen], 10, 1_000).then((done) => (settled = done));
    for (let i = 0; i < 4; i++) {
      seen.add(2); // a redelivery
      await vi.advanceTimersByTimeAsync(200);
    }
    expect(settled).toBeUndefined();
    await vi.advanceTimersByTimeAsync(400);
    expect(settled).toBe(false);
  });

  it('counts what the members of a group read between them, and a channel already read', async () => {
    const even = new Set([2, 4, 6]);
    const odd = new Set([1, 3]);
    let settled: boolean | undefined;
    void waitCovered([even, odd], 6, 1_000).then((done) => (settled = done));
    await vi.advanceTimersByTimeAsync(POLL_MS * 3);
    expect(settled).toBeUndefined();
    odd.add(5);
    await vi.advanceTimersByTimeAsync(POLL_MS * 2);
    expect(settled).toBe(true);
    await expect(waitCovered([new Set([1])], 1, 0)).resolves.toBe(true);
    await expect(waitCovered([new Set()], 0, 0)).resolves.toBe(true);
  });
});
