// Child process for the kill -9 test: appends batches of entries with sync on and prints
// "synced <lastIndex>" after each write has returned, until the parent kills it.
import { LevelRaftStore } from '../../../src/store/raft/level-raft-store.js';
import { makeEntries } from './entries.js';

const directory = process.argv[2];
const batchEntries = Number(process.argv[3] ?? '10');
if (directory === undefined) throw new Error('usage: crash-writer <directory> [batchEntries]');

const store = await LevelRaftStore.open(directory, { sync: true });
let next = store.lastIndex() + 1;
process.stdout.write(`ready ${store.lastIndex()}\n`);
for (;;) {
  const term = 1 + Math.floor(next / 100);
  const last = next + batchEntries - 1;
  await store.write({ entries: makeEntries(next, last, term, 64), hardState: { term, vote: 'a', commit: last } });
  process.stdout.write(`synced ${last}\n`);
  next = last + 1;
}
