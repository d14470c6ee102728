// Proves acknowledged data survives crashes. kill -9: a child process publishes batches and
// prints each one once durable; the test SIGKILLs it mid-stream, reopens the directory and finds
// every reported batch in order with its sequences, and the durable subscription where it was
// (twice, the second writer having recovered); while the writer lives, its directory lock keeps
// a second store out, and after the kill its stale lock is taken over. Power failure: the same
// stream on the simulated disk, which drops every unsynced write (tearing the last), many seeds.
// Both run in clear and with encryption at rest (payloads sealed by the encrypting wrapper).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SimDisk } from '../../../src/store/file/sim-disk.js';
import { emptySubState } from '../../../src/store/records.js';
import { defaultStoreLimits } from '../../../src/store/limits.js';
import type { RecoveredState } from '../../../src/store/types.js';
import type { Store } from '../../../src/store/types.js';
import { message, openStore as openPlainStore, serverInfo, type OpenOptions } from './support/open.js';
import { encrypted } from '../crypto/support.js';

type Mode = 'clear' | 'encrypted';

function storeOpener(mode: Mode): (dir: string, options?: OpenOptions) => Store {
  return (dir, options) => (mode === 'encrypted' ? encrypted(openPlainStore(dir, options)) : openPlainStore(dir, options));
}

const VITE_NODE = fileURLToPath(new URL('../../../node_modules/vite-node/vite-node.mjs', import.meta.url));
const WRITER = fileURLToPath(new URL('./support/crash-writer.ts', import.meta.url));

function payloadFor(seq: number): string {
  return `payload-${seq}-${'x'.repeat(seq % 50)}`;
}

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs the writer until it reported `ackedMin` messages, SIGKILLs it; returns the last acked seq. */
async function writeThenKill(mode: Mode, dir: string, ackedMin: number): Promise<number> {
  const openStore = storeOpener(mode);
  const child = spawn(process.execPath, [VITE_NODE, WRITER, dir, '25', mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let lastAcked = 0;
  for await (const line of createInterface({ input: child.stdout! })) {
    const [word, first, last] = line.split(' ');
    if (word !== 'acked') continue;
    expect(Number(first)).toBe(lastAcked === 0 ? Number(first) : lastAcked + 1);
    if (lastAcked === 0) {
      // The live writer holds the directory lock: a second store is refused.
      await expect(openStore(dir).recover()).rejects.toMatchObject({ code: 'STORE_LOCKED' });
    }
    lastAcked = Number(last);
    if (lastAcked >= ackedMin) {
      child.kill('SIGKILL');
      break;
    }
  }
  await exited;
  expect(child.signalCode).toBe('SIGKILL');
  return lastAcked;
}

async function verify(mode: Mode, dir: string, ackedThrough: number): Promise<number> {
  const store = storeOpener(mode)(dir);
  const state = await store.recover();
  try {
    const channel = state!.channels.find((c) => c.channel.name === 'crash')!;
    const msgs = channel.channel.msgs;
    expect(msgs.firstSequence()).toBe(1);
    expect(msgs.lastSequence()).toBeGreaterThanOrEqual(ackedThrough);
    for (let seq = 1; seq <= msgs.lastSequence(); seq++) {
      const msg = msgs.lookupSync(seq);
      expect(typeof msg === 'object' && msg !== null ? Buffer.from(msg.data).toString() : msg).toBe(payloadFor(seq));
    }
    const durable = channel.subscriptions.find((s) => s.sub.durableName === 'dur')!;
    expect(durable.sub.lastSent).toBeGreaterThanOrEqual(ackedThrough);
    // Everything acked before the last reported batch stays acked; the rest is still pending.
    expect(durable.pending.length).toBeGreaterThan(0);
    expect(durable.pending[durable.pending.length - 1]).toBe(durable.sub.lastSent);
    expect(durable.pending[0]).toBeGreaterThan(ackedThrough - 50);
    return msgs.lastSequence();
  } finally {
    await store.close();
  }
}

describe.each(['clear', 'encrypted'] as const)('kill -9 during a stream of batches (%s)', (mode) => {
  it('keeps every acknowledged batch and the durable position, across two crashes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tstan-crash-'));
    dirs.push(dir);
    const firstAcked = await writeThenKill(mode, dir, 2000);
    const firstLast = await verify(mode, dir, firstAcked);
    const secondAcked = await writeThenKill(mode, dir, firstLast + 1500);
    expect(secondAcked).toBeGreaterThan(firstLast);
    await verify(mode, dir, secondAcked);
  }, 60_000);
});

function seeded(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

async function recoverAfterPowerFailure(mode: Mode, seed: number): Promise<void> {
  const openStore = storeOpener(mode);
  const random = seeded(seed);
  const disk = new SimDisk();
  let acked = 0;
  let sentDurable = 0;
  let ackedSub = 0;
  // Half the seeds also drop old slices by a message limit and compact subs.dat at every chance,
  // so power failures land around slice deletions and file rewrites too.
  const maxMsgs = random() < 0.5 ? 20 + Math.floor(random() * 40) : 0;
  const limits = { ...defaultStoreLimits(), global: { ...defaultStoreLimits().global, maxMsgs } };
  const compaction = maxMsgs > 0 ? { compactMinSizeBytes: 0, compactIntervalSec: 0 } : {};
  for (let life = 0; life < 3; life++) {
    const file = { sliceMaxMsgs: 1 + Math.floor(random() * 40), sliceMaxBytes: 0, ...compaction };
    const store = openStore('/data', { io: disk, limits, file });
    const state: RecoveredState | undefined = await store.recover();
    if (state === undefined) await store.init(serverInfo());
    const recovered = state?.channels.find((c) => c.channel.name === 'foo');
    // Nothing acknowledged yet: the channel's creation itself may not have been durable.
    if (life > 0 && recovered === undefined) expect(acked).toBe(0);
    if (life > 0 && recovered !== undefined) {
      const msgs = recovered.channel.msgs;
      const last = msgs.lastSequence();
      expect(last).toBeGreaterThanOrEqual(acked);
      // Limits may have dropped old messages (for later ones a crash then lost, never acked):
      // what is left is contiguous, within the limit, and ends at or after the last ack.
      if (maxMsgs === 0) expect(msgs.firstSequence()).toBe(last > 0 ? 1 : 0);
      else expect(msgs.state().msgs).toBeLessThanOrEqual(maxMsgs);
      expect(msgs.state().msgs).toBe(last === 0 ? 0 : last - msgs.firstSequence() + 1);
      for (let seq = Math.max(1, msgs.firstSequence()); seq <= last; seq++) {
        const msg = msgs.lookupSync(seq);
        expect(typeof msg === 'object' ? Buffer.from(msg.data).toString() : msg).toBe(payloadFor(seq));
      }
      const durable = recovered.subscriptions.find((s) => s.sub.durableName === 'd');
      if (durable === undefined) expect(sentDurable).toBe(0);
      else {
        expect(durable.sub.lastSent).toBeGreaterThanOrEqual(sentDurable);
        expect(durable.pending.every((seq) => seq > ackedSub)).toBe(true);
      }
    }
    // Acknowledged client registrations survive too (clients.dat, compacted on some seeds).
    if (life > 0) expect(state!.clients.map((c) => c.id)).toEqual(Array.from({ length: life }, (_, i) => `client-${i}`));
    await store.addClient({ id: `client-${life}`, hbInbox: 'hb', connId: new Uint8Array(0), protocol: 1, pingInterval: 0, pingMaxOut: 0 });
    await store.addClient({ id: `gone-${life}`, hbInbox: 'hb', connId: new Uint8Array(0), protocol: 1, pingInterval: 0, pingMaxOut: 0 });
    await store.deleteClient(`gone-${life}`);
    const channel = await store.createChannel('foo');
    let subId = channel.subs.list().find((s) => s.sub.durableName === 'd')?.sub.id;
    if (subId === undefined) {
      const sub = { ...emptySubState(), clientId: 'c', inbox: 'i', ackInbox: 'a', maxInFlight: 9, ackWaitInSecs: 9, durableName: 'd', isDurable: true };
      channel.subs.createSub(sub);
      subId = sub.id;
    }
    const id = subId;
    // A resuming subscriber processes what was left pending and acks it.
    for (const seq of channel.subs.list().find((s) => s.sub.id === id)!.pending) channel.subs.ackSeqPending(id, seq);
    const batches = 5 + Math.floor(random() * 30);
    const inFlight: Array<Promise<void>> = [];
    for (let b = 0; b < batches; b++) {
      const size = 1 + Math.floor(random() * 8);
      const first = channel.msgs.lastSequence() + 1;
      const msgs = Array.from({ length: size }, (_, i) => message('foo', payloadFor(first + i), BigInt(first + i)));
      const stored = channel.msgs.storeBatch(msgs);
      channel.subs.addSeqPending(id, stored.lastSeq);
      channel.subs.ackSeqPending(id, stored.firstSeq - 1);
      const done = Promise.all([stored.durable, channel.subs.flush()]).then(() => {
        acked = Math.max(acked, stored.lastSeq);
        sentDurable = Math.max(sentDurable, stored.lastSeq);
        ackedSub = Math.max(ackedSub, stored.firstSeq - 1);
      });
      done.catch(() => undefined);
      inFlight.push(done);
      // Sometimes wait, so failures land both between and inside commit rounds.
      if (random() < 0.5) await done;
    }
    // Half the time let the commit rounds start (microtasks) so their writes reach the disk
    // but their fsyncs (a later macrotask) do not complete: the failure then tears them.
    if (random() < 0.5) for (let i = 0; i < 5; i++) await Promise.resolve();
    disk.powerFail(random);
    await Promise.allSettled(inFlight);
  }
}

describe.each([['clear', 60], ['encrypted', 60]] as const)('power failure on the simulated disk (%s)', (mode, seeds) => {
  it(`keeps every acknowledged batch, client and the durable position, for ${seeds} seeds`, async () => {
    for (let seed = 1; seed <= seeds; seed++) {
      try {
        await recoverAfterPowerFailure(mode, seed);
      } catch (error) {
        throw new Error(`seed ${seed}: ${String(error)}`, { cause: error });
      }
    }
  });
});
