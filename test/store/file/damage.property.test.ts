// Proves damage is never silent (fast-check): a cleanly closed store gets one bit flipped or one
// file cut at a random offset; reopening either fails with STORE_CORRUPT naming the damaged file,
// or recovers every acknowledged message intact (and any other difference comes with a warning),
// and the store keeps working. Never an uncaught crash of another kind.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimDisk } from '../../../src/store/file/sim-disk.js';
import { emptySubState } from '../../../src/store/records.js';
import type { RecoveredState } from '../../../src/store/types.js';
import { capturingLogger, message, openStore, serverInfo } from './support/open.js';

interface Baseline {
  files: Map<string, Buffer>;
  dirs: string[];
}

async function buildBaseline(): Promise<Baseline> {
  const disk = new SimDisk();
  const store = openStore('/data', { io: disk, file: { sliceMaxMsgs: 12, sliceMaxBytes: 0 } });
  await store.recover();
  await store.init(serverInfo());
  await store.addClient({ id: 'c1', hbInbox: 'hb1', connId: Buffer.from('x'), protocol: 1, pingInterval: 1, pingMaxOut: 3 });
  await store.addClient({ id: 'c2', hbInbox: 'hb2', connId: Buffer.from('y'), protocol: 1, pingInterval: 1, pingMaxOut: 3 });
  for (const name of ['foo', 'bar']) {
    const channel = await store.createChannel(name);
    for (let b = 0; b < 6; b++) {
      const msgs = Array.from({ length: 5 }, (_, i) => message(name, `${name}-${b * 5 + i + 1}`, BigInt(b * 5 + i + 1)));
      await channel.msgs.storeBatch(msgs).durable;
    }
    const sub = { ...emptySubState(), clientId: 'c1', inbox: 'in', ackInbox: 'ack', maxInFlight: 5, ackWaitInSecs: 5, durableName: 'd', isDurable: true };
    channel.subs.createSub(sub);
    for (let seq = 1; seq <= 8; seq++) channel.subs.addSeqPending(sub.id, seq);
    for (let seq = 1; seq <= 4; seq++) channel.subs.ackSeqPending(sub.id, seq);
    await channel.subs.flush();
  }
  await store.close();
  const files = new Map<string, Buffer>();
  const dirs: string[] = ['/data'];
  const walk = (dir: string): void => {
    for (const entry of disk.readdir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) {
        dirs.push(path);
        walk(path);
      } else if (entry.name !== '.rootdir.lck') files.set(path, disk.readFile(path));
    }
  };
  walk('/data');
  return { files, dirs };
}

function diskFrom(baseline: Baseline, damaged: string, content: Buffer): SimDisk {
  const disk = new SimDisk();
  for (const dir of baseline.dirs) disk.mkdir(dir);
  for (const [path, data] of baseline.files) {
    disk.open(path, { create: true });
    disk.writeFile(path, path === damaged ? content : data);
  }
  return disk;
}

function summary(state: RecoveredState | undefined): unknown {
  return {
    clients: state?.clients.map((c) => c.id),
    subs: state?.channels.map((c) => [c.channel.name, c.subscriptions]),
  };
}

describe('damage at random offsets', () => {
  it('is reported or repaired, never silent', async () => {
    const baseline = await buildBaseline();
    const paths = [...baseline.files.keys()].sort();
    const clean = await openStore('/data', { io: diskFrom(baseline, '', Buffer.alloc(0)) }).recover();
    const cleanSummary = summary(clean);

    await fc.assert(
      fc.asyncProperty(
        fc.nat(paths.length - 1),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.oneof(fc.constant('truncate' as const), fc.integer({ min: 0, max: 7 })),
        async (fileIndex, where, damage) => {
          const path = paths[fileIndex]!;
          const original = baseline.files.get(path)!;
          const offset = Math.floor(where * original.length);
          const content = Buffer.from(original);
          const damaged = damage === 'truncate' ? content.subarray(0, offset) : content;
          if (damage !== 'truncate') damaged[offset] = damaged[offset]! ^ (1 << damage);
          const { logger, warnings } = capturingLogger();
          const store = openStore('/data', { io: diskFrom(baseline, path, damaged), logger });
          let state: RecoveredState | undefined;
          try {
            state = await store.recover();
          } catch (error) {
            expect(error).toMatchObject({ code: 'STORE_CORRUPT' });
            expect((error as Error).message).toContain(path);
            return;
          }
          // Recovered: every acknowledged message is there, intact.
          for (const name of ['foo', 'bar']) {
            const channel = state!.channels.find((c) => c.channel.name === name)!;
            expect([channel.channel.msgs.firstSequence(), channel.channel.msgs.lastSequence()]).toEqual([1, 30]);
            for (let seq = 1; seq <= 30; seq++) {
              const msg = await channel.channel.msgs.lookup(seq);
              expect(Buffer.from(msg!.data).toString()).toBe(`${name}-${seq}`);
            }
          }
          if (JSON.stringify(summary(state)) !== JSON.stringify(cleanSummary)) expect(warnings.lines.length).toBeGreaterThan(0);
          // And the store still works.
          const foo = state!.channels.find((c) => c.channel.name === 'foo')!.channel;
          await foo.msgs.storeBatch([message('foo', 'after', 99n)]).durable;
          await store.close();
        },
      ),
      { numRuns: 400 },
    );
  }, 60_000);
});
