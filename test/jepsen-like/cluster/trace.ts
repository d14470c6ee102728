// Reads the NDJSON Raft trace each node writes under TSTAN_RAFT_TRACE (src/cli/test-hooks.ts):
// one file per node, appended across restarts, every line stamped with the system's monotonic
// clock. Times are turned into the history's clock (nanoseconds since the recorder began), so a
// trace event and a client operation can be ordered. A line cut short by a kill is skipped.
import { existsSync, readFileSync } from 'node:fs';

/** An entry as traced: index, term, hash of type and data. */
export type EntryFact = readonly [index: number, term: number, hash: string];

export interface HardStateFact {
  readonly term: number;
  readonly vote: string;
  readonly commit: number;
}

interface TraceBase {
  readonly node: string;
  readonly pid: number;
  /** On the history's clock. */
  readonly tNs: number;
}

export type TraceEvent = TraceBase &
  (
    | {
        readonly type: 'start';
        readonly hardState: HardStateFact;
        readonly firstIndex: number;
        readonly lastIndex: number;
        readonly snapshotIndex: number;
        readonly rejoining: boolean;
        /** Entries past the commit index found on disk at start (older traces: absent). */
        readonly uncommitted?: readonly EntryFact[];
      }
    | { readonly type: 'role'; readonly role: string; readonly term: number; readonly leader: string }
    | { readonly type: 'lead'; readonly term: number }
    | { readonly type: 'persisted'; readonly mustSync: boolean; readonly hardState?: HardStateFact; readonly entries: readonly EntryFact[]; readonly snapshot?: { readonly index: number; readonly term: number } }
    | { readonly type: 'applied'; readonly entries: readonly EntryFact[] }
    | { readonly type: 'snapshot'; readonly action: 'taken' | 'installed'; readonly index: number; readonly term: number }
    | { readonly type: 'stopped'; readonly error?: string }
  );

/** Every event of one node's trace file, in file order; `originNs` is the history's origin. */
export function loadTrace(file: string, originNs: bigint): TraceEvent[] {
  if (!existsSync(file)) return [];
  const events: TraceEvent[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const { ns, ...rest } = raw;
    events.push({ ...rest, tNs: Number(BigInt(String(ns)) - originNs) } as unknown as TraceEvent);
  }
  return events;
}

/** All nodes' events merged in time order (each node's own order kept). */
export function mergeTraces(traces: ReadonlyMap<string, readonly TraceEvent[]>): TraceEvent[] {
  return [...traces.values()].flat().sort((a, b) => a.tNs - b.tNs);
}
