// Proves the pure sub-modules against simple models with fast-check: quorum arithmetic, vote
// tallies, the in-flight window, follower progress, and the log (with its cache) against an
// array of entries under appends, truncations, persistence and compaction.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { committedIndex, tallyVotes, quorumActive } from '../../src/raft/quorum.js';
import { Inflights } from '../../src/raft/inflights.js';
import { Progress, ProgressState } from '../../src/raft/progress.js';
import { RaftLog } from '../../src/raft/log.js';
import { MemoryStorage } from '../../src/raft/storage.js';
import type { Entry } from '../../src/raft/types.js';
import { entry } from './helpers.js';

const voterIds = (n: number): string[] => Array.from({ length: n }, (_, i) => `v${i}`);

describe('quorum', () => {
  it('committedIndex is the largest index that a majority has reached', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(50), { minLength: 1, maxLength: 7 }), (matches) => {
        const ids = voterIds(matches.length);
        const got = committedIndex(ids, (id) => matches[Number(id.slice(1))]!);
        const majority = Math.floor(matches.length / 2) + 1;
        const model = Math.max(0, ...[...matches, 0].filter((m) => matches.filter((x) => x >= m).length >= majority));
        expect(got).toBe(model);
      }),
    );
  });

  it('tallyVotes wins exactly with a majority of grants and loses once a majority is impossible', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom<boolean | undefined>(true, false, undefined), { minLength: 1, maxLength: 7 }), (votes) => {
        const ids = voterIds(votes.length);
        const map = new Map<string, boolean>();
        votes.forEach((vote, i) => vote !== undefined && map.set(ids[i]!, vote));
        const majority = Math.floor(votes.length / 2) + 1;
        const granted = votes.filter((v) => v === true).length;
        const open = votes.filter((v) => v !== false).length;
        const expected = granted >= majority ? 'won' : open < majority ? 'lost' : 'pending';
        expect(tallyVotes(ids, map)).toBe(expected);
        expect(quorumActive(ids, (id) => map.get(id) === true)).toBe(granted >= majority);
      }),
    );
  });
});

describe('inflights', () => {
  it('tracks a bounded window of increasing indexes like a list model', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.oneof(fc.record({ add: fc.integer({ min: 1, max: 5 }), bytes: fc.nat(100) }), fc.record({ free: fc.nat(60) })), { maxLength: 60 }),
        (messagesMax, ops) => {
          const inflights = new Inflights(messagesMax, 250);
          let model: { index: number; bytes: number }[] = [];
          let last = 0;
          for (const op of ops) {
            if ('add' in op) {
              if (inflights.full()) continue;
              last += op.add;
              inflights.add(last, op.bytes);
              model.push({ index: last, bytes: op.bytes });
            } else {
              inflights.freeLE(op.free);
              model = model.filter((item) => item.index > op.free);
            }
            const bytes = model.reduce((sum, item) => sum + item.bytes, 0);
            expect(inflights.count()).toBe(model.length);
            expect(inflights.inflightBytes()).toBe(bytes);
            expect(inflights.full()).toBe(model.length >= messagesMax || bytes >= 250);
          }
        },
      ),
    );
  });
});

describe('progress', () => {
  it('match never decreases and next stays above match, whatever acks and rejections arrive', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.record({ ack: fc.nat(40) }), fc.record({ reject: fc.nat(40), hint: fc.nat(40) }), fc.constant('replicate' as const), fc.constant('probe' as const)), { maxLength: 50 }),
        (ops) => {
          const progress = new Progress(10, 4, 1000);
          let match = 0;
          for (const op of ops) {
            if (op === 'replicate') progress.becomeReplicate();
            else if (op === 'probe') progress.becomeProbe();
            else if ('ack' in op) progress.maybeUpdate(op.ack);
            else progress.maybeDecrTo(op.reject, op.hint);
            expect(progress.match).toBeGreaterThanOrEqual(match);
            expect(progress.next).toBeGreaterThan(progress.match);
            match = progress.match;
          }
          expect([ProgressState.Probe, ProgressState.Replicate]).toContain(progress.state);
        },
      ),
    );
  });
});

type LogOp =
  | { readonly kind: 'append'; readonly count: number; readonly back: number }
  | { readonly kind: 'persist' }
  | { readonly kind: 'commit'; readonly ahead: number }
  | { readonly kind: 'compact'; readonly keep: number };

const logOp: fc.Arbitrary<LogOp> = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), count: fc.integer({ min: 1, max: 4 }), back: fc.nat(3) }),
  fc.record({ kind: fc.constant('persist' as const) }),
  fc.record({ kind: fc.constant('commit' as const), ahead: fc.nat(3) }),
  fc.record({ kind: fc.constant('compact' as const), keep: fc.nat(4) }),
);

describe('raft log', () => {
  it('answers terms and entries like an array model across appends, truncations, persistence and compaction', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.array(logOp, { maxLength: 40 }), (cacheSize, ops) => {
        const storage = new MemoryStorage();
        const log = new RaftLog(storage, cacheSize, 0, 0);
        let model: Entry[] = [];
        let term = 1;
        for (const op of ops) {
          if (op.kind === 'append') {
            // Overwrite an uncommitted suffix (or append at the end) with entries of a new term.
            const from = Math.max(log.committed + 1, model.length + 1 - op.back, storage.firstIndex());
            term++;
            const entries = Array.from({ length: op.count }, (_, i) => entry(from + i, term));
            log.append(entries);
            model = [...model.slice(0, from - 1), ...entries];
          } else if (op.kind === 'persist') {
            const unstable = log.unstableEntries();
            const last = unstable[unstable.length - 1];
            if (last) {
              storage.append(unstable);
              log.stableTo(last.index, last.term);
            }
          } else if (op.kind === 'commit') {
            log.commitTo(Math.min(model.length, log.committed + op.ahead));
          } else {
            const target = Math.min(log.committed, log.durableLastIndex()) - op.keep;
            if (target > storage.firstIndex()) {
              storage.compact(target);
              log.compacted(target);
            }
          }
          expect(log.lastIndex()).toBe(model.length);
          for (let index = storage.firstIndex(); index <= model.length; index++) {
            expect(log.term(index)).toBe(model[index - 1]!.term);
          }
          const first = log.firstIndex();
          const got = log.entries(first, model.length + 1, 1000, 1_000_000);
          expect(got?.map((e) => `${e.index}/${e.term}`)).toEqual(model.slice(first - 1).map((e) => `${e.index}/${e.term}`));
        }
      }),
    );
  });
});
