// Proves the LevelDB Raft store behaves like a plain array model: fast-check drives random
// sequences of append (with conflicting suffixes), truncate suffix, compact prefix, snapshot
// install, hard-state writes and reopen, and after every step the store's log equals the model's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { join } from 'node:path';
import { LevelRaftStore } from '../../src/store/raft/level-raft-store.js';
import type { Entry, HardState } from '../../src/raft/types.js';
import { makeEntry } from './support/entries.js';
import { makeTempDir, removeDir } from './support/temp-dir.js';

type Operation =
  | { type: 'append'; at: number; count: number; termBump: number }
  | { type: 'truncate'; at: number }
  | { type: 'compact'; at: number }
  | { type: 'snapshot'; ahead: number; agree: boolean }
  | { type: 'hardState'; at: number; termBump: number }
  | { type: 'reopen' };

const operationArbitrary: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constant('append' as const), at: fc.nat(1000), count: fc.integer({ min: 1, max: 6 }), termBump: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('truncate' as const), at: fc.nat(1000) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('compact' as const), at: fc.nat(1000) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('snapshot' as const), ahead: fc.integer({ min: 1, max: 8 }), agree: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('hardState' as const), at: fc.nat(1000), termBump: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.constant({ type: 'reopen' as const }) },
);

class Model {
  snapshot = { index: 0, term: 0 };
  entries: Entry[] = [];
  hard: HardState = { term: 0, vote: '', commit: 0 };

  first(): number {
    return this.snapshot.index + 1;
  }
  last(): number {
    return this.snapshot.index + this.entries.length;
  }
  term(index: number): number {
    return index === this.snapshot.index ? this.snapshot.term : this.entries[index - this.first()]!.term;
  }
  /** A position in [low, high] picked by `at`. */
  static pick(at: number, low: number, high: number): number {
    return low + (at % (high - low + 1));
  }
}

async function applyOperation(store: LevelRaftStore, model: Model, op: Operation): Promise<LevelRaftStore> {
  switch (op.type) {
    case 'append': {
      const start = Model.pick(op.at, Math.max(model.first(), model.hard.commit + 1), model.last() + 1);
      const term = Math.max(model.term(start - 1), model.hard.term) + op.termBump;
      const batch = Array.from({ length: op.count }, (_, i) => makeEntry(start + i, term));
      await store.storeEntries(batch);
      model.entries = [...model.entries.slice(0, start - model.first()), ...batch];
      return store;
    }
    case 'truncate': {
      const from = Model.pick(op.at, Math.max(model.first(), model.hard.commit + 1), model.last() + 1);
      await store.truncateSuffix(from);
      model.entries = model.entries.slice(0, from - model.first());
      return store;
    }
    case 'compact': {
      const through = Model.pick(op.at, model.snapshot.index, model.last());
      await store.compactPrefix(through);
      if (through > model.snapshot.index) {
        const kept = model.entries.slice(through - model.first() + 1);
        model.snapshot = { index: through, term: model.term(through) };
        model.entries = kept;
      }
      return store;
    }
    case 'snapshot': {
      const index = model.snapshot.index + op.ahead;
      const inLog = index <= model.last();
      // A snapshot at or below the commit index agrees with the log (Log Matching): only a
      // snapshot beyond it may contradict the log.
      const agree = inLog && (op.agree || index <= model.hard.commit);
      const term = agree ? model.term(index) : Math.max(model.term(model.last()), model.hard.term) + 1;
      const hardState = { term: Math.max(model.hard.term, term), vote: model.hard.vote, commit: Math.max(model.hard.commit, index) };
      await store.write({ snapshotPoint: { index, term }, hardState });
      const kept = inLog && model.term(index) === term ? model.entries.slice(index - model.first() + 1) : [];
      model.snapshot = { index, term };
      model.entries = kept;
      model.hard = hardState;
      return store;
    }
    case 'hardState': {
      const commit = Model.pick(op.at, model.hard.commit, model.last());
      const hardState = { term: model.hard.term + op.termBump, vote: op.termBump > 0 ? '' : `n${op.at % 3}`, commit };
      await store.setHardState(hardState);
      model.hard = hardState;
      return store;
    }
    case 'reopen': {
      await store.close();
      return LevelRaftStore.open(store.location, { sync: false });
    }
  }
}

function expectSame(store: LevelRaftStore, model: Model): void {
  expect(store.firstIndex()).toBe(model.first());
  expect(store.lastIndex()).toBe(model.last());
  expect(store.term(model.snapshot.index)).toBe(model.snapshot.term);
  expect(store.hardState()).toEqual(model.hard);
  const stored = store.entries(model.first(), model.last() + 1);
  expect(stored.map((e) => [e.index, e.term])).toEqual(model.entries.map((e) => [e.index, e.term]));
  stored.forEach((entry, i) => expect(Buffer.from(entry.data)).toEqual(Buffer.from(model.entries[i]!.data)));
}

let root: string;
beforeAll(async () => {
  root = await makeTempDir('raft-model');
});
afterAll(async () => {
  await removeDir(root);
});

describe('LevelRaftStore against an array model', () => {
  it('matches the model after every operation of random sequences', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(operationArbitrary, { minLength: 1, maxLength: 40 }), async (operations) => {
        let store = await LevelRaftStore.open(join(root, `run-${run++}`), { sync: false });
        const model = new Model();
        try {
          for (const op of operations) {
            store = await applyOperation(store, model, op);
            expectSame(store, model);
          }
        } finally {
          await store.close();
        }
      }),
      { numRuns: 120 },
    );
  });
});
