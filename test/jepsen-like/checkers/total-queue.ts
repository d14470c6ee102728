// Jepsen's total-queue checker (docs/testing.md §5.5.1) as multiset arithmetic, O(n): attempts are
// invoked publishes, enqueues are acknowledged ones, dequeues are deliveries. STAN is
// publish/subscribe, so every reader of a channel (a durable, a queue group, a drain) is a
// consumer of the whole channel and gets its own total-queue; the channel as a whole is checked
// against the union of its readers, which is where lost values are split prefix/middle/postfix.
import type { Op } from '../history.js';

type Multiset = Map<string, number>;

function add(set: Multiset, value: string, count = 1): void {
  set.set(value, (set.get(value) ?? 0) + count);
}

function size(set: Multiset): number {
  let total = 0;
  for (const count of set.values()) total += count;
  return total;
}

function intersect(a: Multiset, b: Multiset): Multiset {
  const out: Multiset = new Map();
  for (const [value, count] of a) {
    const min = Math.min(count, b.get(value) ?? 0);
    if (min > 0) out.set(value, min);
  }
  return out;
}

function minus(a: Multiset, b: Multiset): Multiset {
  const out: Multiset = new Map();
  for (const [value, count] of a) {
    const left = count - (b.get(value) ?? 0);
    if (left > 0) out.set(value, left);
  }
  return out;
}

export interface QueueCounts {
  readonly attempts: number;
  readonly enqueues: number;
  readonly dequeues: number;
  readonly ok: number;
  readonly unexpected: number;
  readonly duplicated: number;
  readonly lost: number;
  readonly recovered: number;
  readonly lostValues: readonly string[];
  readonly unexpectedValues: readonly string[];
  readonly valid: boolean;
}

/** Jepsen's definitions: valid iff nothing acknowledged is missing and nothing unpublished came out. */
export function totalQueue(attemptList: Iterable<string>, enqueueList: Iterable<string>, dequeueList: Iterable<string>): QueueCounts {
  const attempts: Multiset = new Map();
  const enqueues: Multiset = new Map();
  const dequeues: Multiset = new Map();
  for (const value of attemptList) add(attempts, value);
  for (const value of enqueueList) add(enqueues, value);
  for (const value of dequeueList) add(dequeues, value);
  const ok = intersect(dequeues, attempts);
  const unexpected: Multiset = new Map();
  for (const [value, count] of dequeues) if (!attempts.has(value)) unexpected.set(value, count);
  const duplicated = minus(minus(dequeues, attempts), unexpected);
  const lost = minus(enqueues, dequeues);
  const recovered = minus(ok, enqueues);
  return {
    attempts: size(attempts),
    enqueues: size(enqueues),
    dequeues: size(dequeues),
    ok: size(ok),
    unexpected: size(unexpected),
    duplicated: size(duplicated),
    lost: size(lost),
    recovered: size(recovered),
    lostValues: [...lost.keys()],
    unexpectedValues: [...unexpected.keys()],
    valid: lost.size === 0 && unexpected.size === 0,
  };
}

export interface LostSplit {
  readonly prefix: number;
  readonly middle: number;
  readonly postfix: number;
}

/**
 * Where the lost values sit among the attempts in invoke order: before the first value anyone
 * read (prefix), after the last (postfix), or in between (middle, the worst: later data survived).
 */
export function splitLost(attemptsInInvokeOrder: readonly string[], read: ReadonlySet<string>, lost: ReadonlySet<string>): LostSplit {
  let first = -1;
  let last = -1;
  attemptsInInvokeOrder.forEach((value, index) => {
    if (!read.has(value)) return;
    if (first < 0) first = index;
    last = index;
  });
  let prefix = 0;
  let middle = 0;
  let postfix = 0;
  const counted = new Set<string>();
  attemptsInInvokeOrder.forEach((value, index) => {
    if (!lost.has(value) || counted.has(value)) return;
    counted.add(value);
    if (first < 0 || index > last) postfix++;
    else if (index < first) prefix++;
    else middle++;
  });
  return { prefix, middle, postfix };
}

export interface ChannelQueueResult {
  readonly channel: string;
  /** The channel against the union of all its readers: what the server lost. */
  readonly all: QueueCounts;
  readonly lostSplit: LostSplit;
  /** Each reader on its own: a value lost here but read elsewhere was not delivered to it. */
  readonly readers: Readonly<Record<string, QueueCounts>>;
  readonly valid: boolean;
}

/** Runs total-queue per channel, and per reader of each channel. */
export function checkTotalQueue(history: readonly Op[]): ChannelQueueResult[] {
  const channels = new Map<string, { attempts: string[]; enqueues: string[]; dequeues: string[]; byReader: Map<string, string[]> }>();
  const channelOf = (name: string) => {
    let entry = channels.get(name);
    if (entry === undefined) {
      entry = { attempts: [], enqueues: [], dequeues: [], byReader: new Map() };
      channels.set(name, entry);
    }
    return entry;
  };
  for (const op of history) {
    // A reader that read nothing must still be checked: its drain names it.
    if (op.f === 'drain' && op.type === 'invoke' && op.channel !== undefined && op.reader !== undefined) {
      const entry = channelOf(op.channel);
      if (!entry.byReader.has(op.reader)) entry.byReader.set(op.reader, []);
    }
    if (op.channel === undefined || op.value === undefined) continue;
    if (op.f === 'publish' && op.type === 'invoke') channelOf(op.channel).attempts.push(op.value);
    else if (op.f === 'publish' && op.type === 'ok') channelOf(op.channel).enqueues.push(op.value);
    else if (op.f === 'deliver' && op.type === 'ok') {
      const entry = channelOf(op.channel);
      entry.dequeues.push(op.value);
      const reader = op.reader ?? op.proc;
      let list = entry.byReader.get(reader);
      if (list === undefined) entry.byReader.set(reader, (list = []));
      list.push(op.value);
    }
  }
  const results: ChannelQueueResult[] = [];
  for (const [channel, entry] of [...channels].sort(([a], [b]) => a.localeCompare(b))) {
    const all = totalQueue(entry.attempts, entry.enqueues, entry.dequeues);
    const lostSplit = splitLost(entry.attempts, new Set(entry.dequeues), new Set(all.lostValues));
    const readers: Record<string, QueueCounts> = {};
    for (const [reader, dequeues] of entry.byReader) readers[reader] = totalQueue(entry.attempts, entry.enqueues, dequeues);
    const valid = all.valid && Object.values(readers).every((r) => r.valid);
    results.push({ channel, all, lostSplit, readers, valid });
  }
  return results;
}
