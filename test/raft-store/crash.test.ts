// Proves that what was synced survives kill -9: a child process appends synced batches and
// reports each one; the test SIGKILLs it mid-stream, reopens the store and reads every reported
// entry back intact (twice, to cover a crash of a process that had itself recovered).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { LevelRaftStore } from '../../src/store/raft/level-raft-store.js';
import { payload } from './support/entries.js';
import { makeTempDir, removeDir } from './support/temp-dir.js';

const VITE_NODE = fileURLToPath(new URL('../../node_modules/vite-node/vite-node.mjs', import.meta.url));
const WRITER = fileURLToPath(new URL('./support/crash-writer.ts', import.meta.url));

let directory: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  directory = await makeTempDir('raft-crash');
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await removeDir(directory);
});

/** Runs the writer until it has reported `syncedMin` entries, SIGKILLs it, returns the last report. */
async function writeThenKill(syncedMin: number): Promise<number> {
  const child = spawn(process.execPath, [VITE_NODE, WRITER, directory, '7'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let lastSynced = -1;
  for await (const line of createInterface({ input: child.stdout! })) {
    const [word, value] = line.split(' ');
    if (word !== 'synced') continue;
    lastSynced = Number(value);
    if (lastSynced >= syncedMin) {
      child.kill('SIGKILL');
      break;
    }
  }
  await exited;
  expect(child.signalCode).toBe('SIGKILL');
  return lastSynced;
}

async function verify(syncedThrough: number): Promise<number> {
  const store = await LevelRaftStore.open(directory, { openCheckEntries: 1_000_000 });
  try {
    expect(store.lastIndex()).toBeGreaterThanOrEqual(syncedThrough);
    expect(store.hardState().commit).toBeGreaterThanOrEqual(syncedThrough);
    const entries = store.entries(1, store.lastIndex() + 1);
    expect(entries.length).toBe(store.lastIndex());
    entries.forEach((entry, i) => {
      expect(entry.index).toBe(i + 1);
      expect(Buffer.from(entry.data)).toEqual(Buffer.from(payload(entry.index, entry.term, 64)));
    });
    return store.lastIndex();
  } finally {
    await store.close();
  }
}

describe('kill -9 of a process writing the Raft log', () => {
  it('keeps every synced entry, across two crashes', async () => {
    const firstSynced = await writeThenKill(300);
    const firstLast = await verify(firstSynced);
    const secondSynced = await writeThenKill(firstLast + 300);
    expect(secondSynced).toBeGreaterThan(firstLast);
    await verify(secondSynced);
  });
});
