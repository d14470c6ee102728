// Proves the MEMORY store meets the store contract (the shared conformance suite) and that its
// own age timer expires messages without being asked (driven by vitest's fake timers).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openMemoryStore } from '../../../src/store/memory/memory-store.js';
import { defaultStoreLimits } from '../../../src/store/limits.js';
import { silentLogger } from '../../../src/util/logger.js';
import { storeConformance, FakeClock, msg } from '../conformance/suite.js';
import { encrypted, sealedSize } from '../crypto/support.js';

storeConformance('MEMORY', (_dir, options) => openMemoryStore(options), { persistent: false });
// The reference encrypts a MEMORY store's payloads too when -encrypt is given.
storeConformance('MEMORY encrypted', async (_dir, options) => encrypted(await openMemoryStore(options)), {
  persistent: false,
  storedSize: sealedSize,
});

describe('MEMORY store specifics', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires aged messages on its own timer, and stops the timer on close', async () => {
    vi.useFakeTimers();
    const clock = new FakeClock();
    const limits = defaultStoreLimits();
    const store = await openMemoryStore({
      limits: { ...limits, global: { ...limits.global, maxAgeMs: 1000 } },
      clock,
      logger: silentLogger(),
    });
    await store.init({ clusterId: 'c', discovery: '', publish: '', subscribe: '', unsubscribe: '', close: '', subClose: '', acksSubs: '', nodeId: '' });
    const { msgs } = await store.createChannel('foo');
    const step = (ms: number): void => {
      clock.advanceMs(ms);
      vi.advanceTimersByTime(ms);
    };
    msgs.storeBatch([msg('foo', 'a', clock.now)]);
    step(500);
    msgs.storeBatch([msg('foo', 'b', clock.now)]);
    step(499);
    expect(msgs.state().msgs).toBe(2);
    step(2);
    expect([msgs.firstSequence(), msgs.state().msgs]).toEqual([2, 1]);
    step(500);
    expect(msgs.state().msgs).toBe(0);
    msgs.storeBatch([msg('foo', 'c', clock.now)]);
    expect(vi.getTimerCount()).toBe(1);
    await store.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('returns the same resolved durability promise for every batch', async () => {
    const store = await openMemoryStore({ limits: defaultStoreLimits(), clock: new FakeClock(), logger: silentLogger() });
    const { msgs } = await store.createChannel('foo');
    const a = msgs.storeBatch([msg('foo', 'a', 1n)]);
    const b = msgs.storeBatch([msg('foo', 'b', 1n)]);
    expect(a.durable).toBe(b.durable);
    await store.close();
  });
});
