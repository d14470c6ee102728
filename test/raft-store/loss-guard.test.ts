// Proves that a node tells a disk that lost synced Raft state from an ordinary crash: a cut synced
// tail of LevelDB's write-ahead log, a lost vote, a damaged record in the middle of the log are
// found and remembered (the catch-up marker survives restarts until released); an unsynced tail
// cut, garbage after the last record, or kill -9 at any point of appends, suffix replacements and
// snapshot installs are no loss.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DurableRaftStorage } from '../../src/store/raft/durable-storage.js';
import { LevelRaftStore } from '../../src/store/raft/level-raft-store.js';
import { decodeClaim, scanLevelDbLog } from '../../src/store/raft/loss-guard.js';
import { makeEntries } from './support/entries.js';
import { makeTempDir, removeDir } from './support/temp-dir.js';

const VITE_NODE = fileURLToPath(new URL('../../node_modules/vite-node/vite-node.mjs', import.meta.url));
const WRITER = fileURLToPath(new URL('./support/rewrite-writer.ts', import.meta.url));

let directory: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  directory = await makeTempDir('raft-loss');
});
afterEach(async () => {
  await removeDir(directory);
});
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** The LevelDB write-ahead log under `dir` (the one LevelDB appends to). */
function walOf(dir: string): string {
  const logs = readdirSync(dir).filter((name) => /^\d+\.log$/.test(name)).sort();
  expect(logs.length).toBeGreaterThan(0);
  return join(dir, logs[logs.length - 1]!);
}

/** A storage with entries 1..60 in three synced batches, closed; returns the WAL's length before the last batch. */
async function threeBatches(): Promise<number> {
  const storage = await DurableRaftStorage.open(directory);
  await storage.persist({ entries: makeEntries(1, 20, 1, 200), hardState: { term: 1, vote: 'a', commit: 10 }, mustSync: true });
  await storage.persist({ entries: makeEntries(21, 40, 1, 200), hardState: { term: 1, vote: 'a', commit: 30 }, mustSync: true });
  const before = statSync(walOf(join(directory, 'log'))).size;
  await storage.persist({ entries: makeEntries(41, 60, 2, 200), hardState: { term: 2, vote: 'b', commit: 40 }, mustSync: true });
  await storage.close();
  return before;
}

describe('the loss guard of the Raft log', () => {
  it('a synced tail cut from the write-ahead log is a loss; the marker keeps it until released', async () => {
    const before = await threeBatches();
    truncateSync(walOf(join(directory, 'log')), before + 100);
    let storage = await DurableRaftStorage.open(directory);
    expect(storage.lastIndex()).toBe(40);
    expect(storage.catchUpReason()).toMatch(/the raft log ends at 40 but entries through 60 had been synced/);
    expect(storage.catchUpReason()).toMatch(/hard state has term 1 but term 2 had been synced/);
    await storage.close();
    // The watermark now claims what is held; the marker alone remembers.
    storage = await DurableRaftStorage.open(directory);
    expect(storage.catchUpReason()).toMatch(/entries through 60/);
    await storage.persist({ entries: makeEntries(41, 45, 3, 200), hardState: { term: 3, vote: '', commit: 45 }, mustSync: true });
    await storage.releaseCatchUpGate();
    await storage.close();
    storage = await DurableRaftStorage.open(directory);
    expect(storage.catchUpReason()).toBeUndefined();
    expect(storage.lastIndex()).toBe(45);
    await storage.close();
  });

  it('a lost vote is a loss even when no entry is missing', async () => {
    const storage = await DurableRaftStorage.open(directory);
    await storage.persist({ entries: makeEntries(1, 20, 1, 200), hardState: { term: 1, vote: 'a', commit: 10 }, mustSync: true });
    const before = statSync(walOf(join(directory, 'log'))).size;
    await storage.persist({ entries: [], hardState: { term: 2, vote: 'c', commit: 10 }, mustSync: true });
    await storage.close();
    truncateSync(walOf(join(directory, 'log')), before);
    const reopened = await DurableRaftStorage.open(directory);
    expect(reopened.catchUpReason()).toMatch(/term 1 but term 2 had been synced/);
    await reopened.close();
  });

  it('an unsynced tail cut, or garbage after the last record, is no loss', async () => {
    const log = await LevelRaftStore.open(join(directory, 'log'), { watermarkPath: join(directory, 'synced') });
    await log.write({ entries: makeEntries(1, 20, 1, 200), hardState: { term: 1, vote: 'a', commit: 10 } });
    const before = statSync(walOf(join(directory, 'log'))).size;
    await log.write({ entries: makeEntries(21, 40, 1, 200), hardState: { term: 1, vote: 'a', commit: 30 } }, { sync: false });
    await log.close();
    truncateSync(walOf(join(directory, 'log')), before + 1000);
    appendFileSync(walOf(join(directory, 'log')), Buffer.alloc(700, 0x5a));
    const storage = await DurableRaftStorage.open(directory);
    expect(storage.catchUpReason()).toBeUndefined();
    expect(storage.lastIndex()).toBe(20);
    await storage.close();
  });

  it('a damaged record in the middle of the write-ahead log is a loss, found before LevelDB hides it', async () => {
    await threeBatches();
    const wal = walOf(join(directory, 'log'));
    const bytes = readFileSync(wal);
    expect(scanLevelDbLog(bytes)).toEqual({ badRecords: 0, goodAfterBad: false });
    bytes[200] = bytes[200]! ^ 0x10;
    writeFileSync(wal, bytes);
    expect(scanLevelDbLog(bytes)).toMatchObject({ goodAfterBad: true });
    const storage = await DurableRaftStorage.open(directory).catch((error: unknown) => error);
    // Either LevelDB's own check refuses the damaged log, or the node opens it behind the gate.
    if (storage instanceof DurableRaftStorage) {
      expect(storage.catchUpReason()).toMatch(/damaged record\(s\) followed by intact ones/);
      await storage.close();
    } else {
      expect(storage).toMatchObject({ code: expect.stringMatching(/STORE_CORRUPT|RAFT_STORE_OPEN_FAILED/) });
    }
  });

  it('a watermark torn or foreign is no claim', () => {
    expect(decodeClaim(Buffer.alloc(0))).toBeUndefined();
    expect(decodeClaim(Buffer.from('TSTANWM1 garbage that is no claim at all'))).toBeUndefined();
  });

  it('kill -9 at any point of appends, suffix replacements and snapshot installs is never taken for a loss', async () => {
    const logDir = join(directory, 'log');
    const watermark = join(directory, 'synced');
    let syncedBefore = 0;
    for (let kill = 0; kill < 6; kill++) {
      const child = spawn(process.execPath, [VITE_NODE, WRITER, logDir, watermark], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      let reports = 0;
      for await (const line of createInterface({ input: child.stdout! })) {
        if (!line.startsWith('synced ')) continue;
        // Each run writes a different number of batches before it dies.
        if (++reports >= 15 + kill * 11) {
          child.kill('SIGKILL');
          break;
        }
      }
      await exited;
      const log = await LevelRaftStore.open(logDir, { watermarkPath: watermark, openCheckEntries: 1_000_000 });
      try {
        expect(log.losses, `after kill ${kill}`).toEqual([]);
        expect(log.lastIndex()).toBeGreaterThan(syncedBefore);
        syncedBefore = log.hardState().commit;
      } finally {
        await log.close();
      }
    }
  }, 60_000);
});
