// The clear copies an encrypting store keeps of its messages, in place of the FILE store's cache of
// sealed ones: a subscriber behind, but within the cache, is served without opening anything
// again; the copies are counted by their bytes in the cache's budget (8 MB of their own over
// MEMORY), oldest evicted first, whatever the payload size.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PayloadCipher } from '../../../src/store/crypto/payload-cipher.js';
import { openMemoryStore } from '../../../src/store/memory/memory-store.js';
import { defaultStoreLimits } from '../../../src/store/limits.js';
import { silentLogger } from '../../../src/util/logger.js';
import { encodeMsgProto, type MsgProto } from '../../../src/store/records.js';
import { message, openStore, serverInfo, testClock } from '../file/support/open.js';
import { encrypted } from './support.js';

function payload(seq: number, size: number): Buffer {
  const data = Buffer.alloc(size, seq % 251);
  data.write(`msg-${seq}-`);
  return data;
}

function batch(from: number, count: number, size: number): MsgProto[] {
  return Array.from({ length: count }, (_, i) => ({ ...message('foo', '', 1n), data: payload(from + i, size) }));
}

describe.each(['AES', 'CHACHA'] as const)('clear copies of an encrypted FILE store (%s)', (cipher) => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tstan-clear-copies-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves a subscriber 10,000 messages behind from the cache without opening any', async () => {
    const store = encrypted(openStore(dir), cipher);
    await store.recover();
    await store.init(serverInfo());
    const { msgs } = await store.createChannel('foo');
    for (let from = 1; from <= 10_000; from += 100) await msgs.storeBatch(batch(from, 100, 128)).durable;
    const opens = vi.spyOn(PayloadCipher.prototype, 'open');
    try {
      // From the oldest: far more than the 4,096 the wrapper used to keep in clear.
      for (let seq = 1; seq <= 10_000; seq++) {
        const bytes = msgs.lookupEncodedSync!(seq)!;
        const expected = encodeMsgProto({ ...message('foo', '', 1n), sequence: seq, data: payload(seq, 128) });
        if (!Buffer.from(bytes).equals(expected)) throw new Error(`message ${seq} is not delivered as stored`);
      }
      expect(opens).not.toHaveBeenCalled();
    } finally {
      opens.mockRestore();
    }
    await store.close();
  });

  it('counts the clear copies by their bytes in the cache budget, and opens what was evicted', async () => {
    const bytesMax = 1024 * 1024;
    const inner = openStore(dir, { file: { cacheBytesMax: bytesMax } });
    const store = encrypted(inner, cipher);
    await store.recover();
    await store.init(serverInfo());
    const budget = store.clearBudget;
    expect(budget.bytesMax).toBe(bytesMax);
    expect(inner.takeWriteCache()).toBe(budget); // the store's own
    const { msgs } = await store.createChannel('foo');
    const before = budget.bytes;
    await msgs.storeBatch(batch(1, 1, 100_000)).durable;
    // The clear copy is counted by its bytes, and the store no longer caches the sealed record.
    expect(budget.bytes - before).toBeGreaterThanOrEqual(100_000);
    expect(budget.bytes - before).toBeLessThan(110_000);
    for (let seq = 2; seq <= 64; seq++) {
      await msgs.storeBatch(batch(seq, 1, 100_000)).durable;
      expect(budget.bytes).toBeLessThanOrEqual(bytesMax);
    }
    const opens = vi.spyOn(PayloadCipher.prototype, 'open');
    try {
      // The newest are still cached: no opening.
      expect(Buffer.from((msgs.lookupSync(64) as MsgProto).data).equals(payload(64, 100_000))).toBe(true);
      expect(opens).not.toHaveBeenCalled();
      // The oldest were evicted: read back from the disk and opened.
      expect(Buffer.from((msgs.lookupSync(1) as MsgProto).data).equals(payload(1, 100_000))).toBe(true);
      expect(opens).toHaveBeenCalledTimes(1);
      // ... once for several readers.
      expect(Buffer.from(msgs.lookupEncodedSync!(1)!).includes(payload(1, 100_000))).toBe(true);
      expect(opens).toHaveBeenCalledTimes(1);
      expect(budget.bytes).toBeLessThanOrEqual(bytesMax);
    } finally {
      opens.mockRestore();
    }
    // Deleting the channel gives its bytes back.
    await store.deleteChannel('foo');
    expect(budget.bytes).toBe(0);
    await store.close();
  });
});

describe('clear copies of an encrypted MEMORY store', () => {
  it('holds at most its byte budget of 1 MB payloads, not a number of messages', async () => {
    const store = encrypted(await openMemoryStore({ limits: defaultStoreLimits(), clock: testClock(), logger: silentLogger() }));
    await store.init(serverInfo());
    const { msgs } = await store.createChannel('foo');
    const budget = store.clearBudget;
    for (let seq = 1; seq <= 40; seq++) {
      await msgs.storeBatch(batch(seq, 1, 1024 * 1024)).durable;
      expect(budget.bytes).toBeLessThanOrEqual(budget.bytesMax);
    }
    expect(budget.bytesMax).toBeLessThan(40 * 1024 * 1024);
    for (const seq of [1, 20, 40]) expect(Buffer.from((msgs.lookupSync(seq) as MsgProto).data).equals(payload(seq, 1024 * 1024))).toBe(true);
    expect(budget.bytes).toBeLessThanOrEqual(budget.bytesMax);
    await store.close();
    expect(budget.bytes).toBe(0);
  });
});
