// Proves SeqSet and SeqMap behave as a Set and a Map of sequences, iterated in ascending order:
// fast-check runs random operation lists against the built-in structures, with sequences close
// together (the window), far apart (the sparse fallback and back), near 2^53 and below the
// lowest held one; and checks that memory follows what is held, not the widest span seen, and
// that a structure that never held anything has no window.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SeqMap, SeqSet } from '../../src/util/seq-window.js';

type Operation =
  | { type: 'set'; seq: number; value: number }
  | { type: 'delete'; seq: number }
  | { type: 'clear' };

/** Sequences around a base: mostly near one another, some far away. */
function operations(base: number): fc.Arbitrary<Operation[]> {
  const seq = fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max: 2_000 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 200_000 }) },
  ).map((offset) => base + offset);
  const operation: fc.Arbitrary<Operation> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ type: fc.constant('set' as const), seq, value: fc.double({ noNaN: true }) }) },
    { weight: 5, arbitrary: fc.record({ type: fc.constant('delete' as const), seq }) },
    { weight: 1, arbitrary: fc.constant({ type: 'clear' as const }) },
  );
  return fc.array(operation, { maxLength: 400 });
}

const ascending = (values: Iterable<number>): number[] => [...values].sort((a, b) => a - b);

function checkMap(actual: SeqMap, model: Map<number, number>, probe: number): void {
  expect(actual.size).toBe(model.size);
  expect([...actual.keys()]).toEqual(ascending(model.keys()));
  expect([...actual]).toEqual(ascending(model.keys()).map((seq) => [seq, model.get(seq)]));
  expect(actual.has(probe)).toBe(model.has(probe));
  expect(actual.get(probe)).toBe(model.get(probe));
}

describe('SeqMap and SeqSet against Map and Set', () => {
  for (const base of [1, 2 ** 40, 2 ** 53 - 300_000]) {
    it(`random operations from sequence ${base}`, () => {
      fc.assert(
        fc.property(operations(base), (ops) => {
          const map = new SeqMap();
          const set = new SeqSet();
          const mapModel = new Map<number, number>();
          const setModel = new Set<number>();
          for (const op of ops) {
            if (op.type === 'set') {
              map.set(op.seq, op.value);
              mapModel.set(op.seq, op.value);
              set.add(op.seq);
              setModel.add(op.seq);
              checkMap(map, mapModel, op.seq + 1);
            } else if (op.type === 'delete') {
              expect(map.delete(op.seq)).toBe(mapModel.delete(op.seq));
              expect(set.delete(op.seq)).toBe(setModel.delete(op.seq));
              checkMap(map, mapModel, op.seq);
            } else {
              map.clear();
              mapModel.clear();
              set.clear();
              setModel.clear();
            }
            expect(set.size).toBe(setModel.size);
          }
          checkMap(map, mapModel, base);
          expect([...set]).toEqual(ascending(setModel));
          expect([...new SeqSet(set)]).toEqual(ascending(setModel));
        }),
        { numRuns: 200 },
      );
    });
  }
});

describe('SeqMap', () => {
  it('keeps sliding: sent at the top, acked at the bottom, a million times', () => {
    const map = new SeqMap();
    let deleted = 0;
    for (let seq = 1; seq <= 1_000_000; seq++) {
      map.set(seq, seq * 10);
      if (seq > 1_000 && map.delete(seq - 1_000)) deleted++;
    }
    expect(deleted).toBe(999_000);
    expect(map.size).toBe(1_000);
    expect(map.get(999_001)).toBe(9_990_010);
    expect(map.get(999_000)).toBeUndefined();
    expect([...map.keys()][0]).toBe(999_001);
  });

  it('goes sparse for a few far-apart sequences and back to a window once emptied', () => {
    const map = new SeqMap([[5, 1], [5_000_000, 2]]);
    expect([...map]).toEqual([[5, 1], [5_000_000, 2]]);
    expect(map.delete(5)).toBe(true);
    expect(map.delete(5_000_000)).toBe(true);
    expect(map.size).toBe(0);
    for (let seq = 10; seq < 3_000; seq++) map.set(seq, seq);
    expect(map.size).toBe(2_990);
    expect(map.get(2_999)).toBe(2_999);
  });

  it('holds a few far-apart sequences without a window spanning them', () => {
    const slots = (map: SeqMap): number => (map as unknown as { present: Uint8Array }).present.length;
    const map = new SeqMap();
    expect(slots(map)).toBe(0);
    for (let seq = 1; seq <= 60; seq++) map.set(seq * 1_000, seq);
    expect(slots(map)).toBeLessThanOrEqual(1_024);
    expect(map.get(60_000)).toBe(60);
    for (let seq = 1; seq <= 60; seq++) map.delete(seq * 1_000);
    for (let seq = 1; seq <= 8_000; seq++) map.set(seq, seq);
    for (let seq = 1; seq <= 8_000; seq++) map.delete(seq);
    expect(slots(map)).toBeLessThanOrEqual(4_096);
  });

  it('can be deleted from while its keys are iterated', () => {
    const map = new SeqMap();
    for (let seq = 100; seq < 200; seq++) map.set(seq, 0);
    const seen: number[] = [];
    for (const seq of map.keys()) {
      seen.push(seq);
      map.delete(seq);
      map.delete(seq + 1);
    }
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => 100 + 2 * i));
    expect(map.size).toBe(0);
  });
});
