// Deterministic entries for store tests: the payload is derived from index and term, so a
// reader can tell a right entry from a stale or foreign one.
import { EntryType, type Entry } from '../../../src/raft/types.js';

export function payload(index: number, term: number, bytes = 16): Uint8Array {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (index * 31 + term * 7 + i) & 0xff;
  return data;
}

export function makeEntry(index: number, term: number, bytes = 16): Entry {
  return { index, term, type: EntryType.Normal, data: payload(index, term, bytes) };
}

/** Entries [from, through] all of `term`. */
export function makeEntries(from: number, through: number, term: number, bytes = 16): Entry[] {
  const entries: Entry[] = [];
  for (let index = from; index <= through; index++) entries.push(makeEntry(index, term, bytes));
  return entries;
}
