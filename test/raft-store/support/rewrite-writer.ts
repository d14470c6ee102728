// Child process for the loss-guard kill -9 test: a follower's life in miniature — synced appends,
// conflicting suffixes replaced (as after a leader change), and now and then a snapshot installed
// over the log — with the sync watermark on, until the parent kills it. Prints "synced <last>"
// after each synced write has returned.
import { LevelRaftStore } from '../../../src/store/raft/level-raft-store.js';
import { makeEntries } from './entries.js';

const [directory, watermarkPath] = process.argv.slice(2);
if (directory === undefined || watermarkPath === undefined) throw new Error('usage: rewrite-writer <directory> <watermark>');

const store = await LevelRaftStore.open(directory, { sync: true, watermarkPath });
process.stdout.write(`ready ${store.lastIndex()}\n`);
let term = store.hardState().term + 1;
// One vote per term, as in Raft: a vote changed within a term would rightly be taken for a loss
// when the kill falls between the store's write and the watermark's.
let vote = 'a';
for (let round = 0; ; round++) {
  const last = store.lastIndex();
  const commit = store.hardState().commit;
  if (round % 7 === 6) {
    // A snapshot ahead of the log replaces all of it.
    const point = { index: last + 5, term };
    await store.write({ snapshotPoint: point, replaceLog: true, hardState: { term, vote, commit: point.index } });
  } else if (round % 3 === 2 && last - 1 > commit) {
    // A new leader's log disagrees with our uncommitted tail: entries from the middle of it on
    // are replaced by entries of a higher term.
    term++;
    vote = term % 2 === 0 ? 'b' : 'a';
    const from = commit + 1 + Math.floor((last - commit - 1) / 2);
    await store.write({ entries: makeEntries(from, from + 3, term, 64), hardState: { term, vote, commit } });
  } else {
    // Appends; the commit index lags the last entry by a few.
    await store.write({ entries: makeEntries(last + 1, last + 6, term, 64), hardState: { term, vote, commit: Math.max(commit, last + 2) } });
  }
  process.stdout.write(`synced ${store.lastIndex()}\n`);
}
