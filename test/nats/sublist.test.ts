// Proves the subscription index matches exactly like a naive scan of every subscription, across
// random inserts, removes and matches, with the bounded cache never serving a stale answer.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Sublist } from '../../src/transport/nats/sublist.js';
import { subjectMatches, isValidSubscribeSubject, isValidPublishSubject } from '../../src/transport/nats/subject.js';

interface Sub {
  subject: string;
  queue: string;
  id: number;
}

function ids(result: { plain: readonly Sub[]; queues: readonly (readonly Sub[])[] }): number[] {
  return [...result.plain, ...result.queues.flat()].map((s) => s.id).sort((a, b) => a - b);
}

const token = fc.constantFrom('a', 'b', 'c');
const pattern = fc
  .array(fc.oneof({ weight: 4, arbitrary: token }, { weight: 1, arbitrary: fc.constant('*') }), { minLength: 1, maxLength: 3 })
  .chain((tokens) => fc.boolean().map((full) => (full ? [...tokens.slice(0, -1), '>'] : tokens).join('.')));
const literal = fc.array(token, { minLength: 1, maxLength: 4 }).map((t) => t.join('.'));

describe('subject rules', () => {
  it('matches wildcards as whole tokens', () => {
    expect(subjectMatches('a.*', 'a.b')).toBe(true);
    expect(subjectMatches('a.*', 'a.b.c')).toBe(false);
    expect(subjectMatches('a.>', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.>', 'a')).toBe(false);
    expect(subjectMatches('>', 'a')).toBe(true);
    expect(subjectMatches('*.b', 'a.b')).toBe(true);
  });

  it('validates subscribe and publish subjects', () => {
    expect(isValidSubscribeSubject('a.*.>')).toBe(true);
    expect(isValidSubscribeSubject('a.>.b')).toBe(false);
    expect(isValidSubscribeSubject('a..b')).toBe(false);
    expect(isValidSubscribeSubject('')).toBe(false);
    expect(isValidSubscribeSubject('a b')).toBe(false);
    expect(isValidPublishSubject('a.*')).toBe(false);
    expect(isValidPublishSubject('a.b')).toBe(true);
  });
});

describe('Sublist', () => {
  it('agrees with a naive scan under random operations, with a tiny cache', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('insert' as const), subject: pattern, queue: fc.constantFrom('', '', 'q1', 'q2') }),
      fc.record({ kind: fc.constant('remove' as const), index: fc.nat() }),
      fc.record({ kind: fc.constant('match' as const), subject: literal }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const list = new Sublist<Sub>(4);
        const live: Sub[] = [];
        let nextId = 1;
        for (const o of ops) {
          if (o.kind === 'insert') {
            const sub = { subject: o.subject, queue: o.queue, id: nextId++ };
            list.insert(sub);
            live.push(sub);
          } else if (o.kind === 'remove') {
            if (live.length === 0) continue;
            const [sub] = live.splice(o.index % live.length, 1);
            expect(list.remove(sub!)).toBe(true);
          } else {
            const want = live.filter((s) => subjectMatches(s.subject, o.subject)).map((s) => s.id).sort((a, b) => a - b);
            expect(ids(list.match(o.subject))).toEqual(want);
          }
          expect(list.size).toBe(live.length);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('leaves filtered subscriptions out of the matches of restricted subjects only, cache or not', () => {
    // Restricted: subjects under `a.`; admitted there: even IDs (as nodes' subscriptions are).
    const restricts = (subject: string): boolean => subject.startsWith('a.');
    const admits = (sub: Sub): boolean => sub.id % 2 === 0;
    const op = fc.oneof(
      fc.record({ kind: fc.constant('insert' as const), subject: pattern, queue: fc.constantFrom('', 'q1') }),
      fc.record({ kind: fc.constant('remove' as const), index: fc.nat() }),
      fc.record({ kind: fc.constant('match' as const), subject: literal }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.constantFrom(0, 4), (ops, cacheEntries) => {
        const list = new Sublist<Sub>(cacheEntries, { restricts, admits });
        const live: Sub[] = [];
        let nextId = 1;
        for (const o of ops) {
          if (o.kind === 'insert') {
            const sub = { subject: o.subject, queue: o.queue, id: nextId++ };
            list.insert(sub);
            live.push(sub);
          } else if (o.kind === 'remove') {
            if (live.length === 0) continue;
            list.remove(live.splice(o.index % live.length, 1)[0]!);
          } else {
            const want = live
              .filter((s) => subjectMatches(s.subject, o.subject) && (!restricts(o.subject) || admits(s)))
              .map((s) => s.id)
              .sort((a, b) => a - b);
            const result = list.match(o.subject);
            expect(ids(result)).toEqual(want);
            expect(result.queues.every((members) => members.length > 0)).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('groups queue members by queue name', () => {
    const list = new Sublist<Sub>(16);
    list.insert({ subject: 'x', queue: 'q', id: 1 });
    list.insert({ subject: 'x', queue: 'q', id: 2 });
    list.insert({ subject: '*', queue: 'q', id: 3 });
    list.insert({ subject: 'x', queue: 'r', id: 4 });
    list.insert({ subject: 'x', queue: '', id: 5 });
    const result = list.match('x');
    expect(result.plain.map((s) => s.id)).toEqual([5]);
    expect(result.queues.map((m) => m.map((s) => s.id).sort())).toEqual([[1, 2, 3], [4]]);
  });

  it('keeps the cache bounded', () => {
    const list = new Sublist<Sub>(8);
    list.insert({ subject: '>', queue: '', id: 1 });
    for (let i = 0; i < 100; i++) list.match(`inbox.${i}`);
    expect(list.stats().cacheEntries).toBeLessThanOrEqual(8);
  });
});
