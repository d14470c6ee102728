// The clustered figures of docs/testing.md §5.7, from the nodes' traces and the nemesis's fault
// events: per fault, how long until a new leader was elected and a first candidate stood; over
// the fault phase, elections (candidates), pre-elections, leader changes and how much the term
// grew; snapshots taken and installed; and each node's role over time for the report.
import type { FaultEvent } from '../faults.js';
import type { TraceEvent } from './trace.js';

export interface LeaderFaultFigures {
  readonly kind: string;
  readonly node: string;
  readonly atMs: number;
  /** The fault hit the node that led when it began (its name is among the fault's nodes). */
  readonly hitLeader: boolean;
  /** First candidate (pre-votes excluded) after the fault began. */
  readonly firstCandidateMs: number | null;
  /** A leader of a term above every term seen before the fault. */
  readonly newLeaderMs: number | null;
  readonly newLeader: string | null;
}

export interface ClusterFigures {
  readonly elections: number;
  readonly preElections: number;
  readonly leaderChanges: number;
  readonly termAtFaultStart: number;
  readonly termAtEnd: number;
  readonly termGrowth: number;
  readonly snapshotsTaken: number;
  readonly snapshotInstalls: number;
  readonly leaderFaults: readonly LeaderFaultFigures[];
  /** Leaders in term order after the fault phase began: `term:node`. */
  readonly leaders: readonly string[];
}

/** Spans of each node's role, from its trace: [startMs, endMs, role, term]. */
export type RoleSpan = readonly [startMs: number, endMs: number, role: string, term: number];

const ms = (ns: number) => Math.round(ns / 1e5) / 10;

/** The node leading the highest term before `tNs`, if it had not stopped leading by then. */
function leaderAt(events: readonly TraceEvent[], tNs: number): string | undefined {
  let term = 0;
  let leader: string | undefined;
  for (const e of events) {
    if (e.tNs > tNs) break;
    if (e.type === 'role' && e.term >= term) {
      term = e.term;
      if (e.role === 'leader') leader = e.node;
      else if (e.node === leader) leader = undefined;
    }
  }
  return leader;
}

function maxTermBefore(events: readonly TraceEvent[], tNs: number): number {
  let term = 0;
  for (const e of events) {
    if (e.tNs > tNs) break;
    if (e.type === 'role' || e.type === 'lead') term = Math.max(term, e.term);
    else if (e.type === 'start') term = Math.max(term, e.hardState.term);
    else if (e.type === 'persisted' && e.hardState !== undefined) term = Math.max(term, e.hardState.term);
  }
  return term;
}

export function computeClusterFigures(merged: readonly TraceEvent[], faults: readonly FaultEvent[], faultStartNs: number, originNs: number): ClusterFigures {
  const after = merged.filter((e) => e.tNs >= faultStartNs);
  const termAtFaultStart = maxTermBefore(merged, faultStartNs);
  const termAtEnd = maxTermBefore(merged, Number.POSITIVE_INFINITY);
  const leaders: string[] = [];
  for (const e of after) if (e.type === 'lead') leaders.push(`${e.term}:${e.node}`);
  const leaderFaults = faults
    .filter((f) => f.kind !== 'consumer-crash')
    .map((f): LeaderFaultFigures => {
      const before = maxTermBefore(merged, f.startNs);
      const leader = leaderAt(merged, f.startNs);
      const hitLeader = leader !== undefined && f.node.split(/[+-]/).includes(leader);
      const candidate = merged.find((e) => e.tNs > f.startNs && e.type === 'role' && e.role === 'candidate');
      const elected = merged.find((e) => e.tNs > f.startNs && e.type === 'role' && e.role === 'leader' && e.term > before);
      return {
        kind: f.kind,
        node: f.node,
        atMs: ms(f.startNs - originNs),
        hitLeader,
        firstCandidateMs: candidate === undefined ? null : ms(candidate.tNs - f.startNs),
        newLeaderMs: elected === undefined ? null : ms(elected.tNs - f.startNs),
        newLeader: elected === undefined ? null : elected.node,
      };
    });
  return {
    elections: after.filter((e) => e.type === 'role' && e.role === 'candidate').length,
    preElections: after.filter((e) => e.type === 'role' && e.role === 'preCandidate').length,
    leaderChanges: leaders.length,
    termAtFaultStart,
    termAtEnd,
    termGrowth: termAtEnd - termAtFaultStart,
    snapshotsTaken: merged.filter((e) => e.type === 'snapshot' && e.action === 'taken').length,
    snapshotInstalls: merged.filter((e) => e.type === 'snapshot' && e.action === 'installed').length,
    leaderFaults,
    leaders,
  };
}

/** Each node's roles over time, from its trace, for the report's timeline (ms on the history clock). */
export function roleSpans(events: readonly TraceEvent[], endNs: number): RoleSpan[] {
  const spans: RoleSpan[] = [];
  let current: { startNs: number; role: string; term: number } | undefined;
  const close = (atNs: number) => {
    if (current !== undefined && atNs > current.startNs) spans.push([ms(current.startNs), ms(atNs), current.role, current.term]);
    current = undefined;
  };
  for (const e of events) {
    if (e.type === 'start') {
      close(e.tNs);
      current = { startNs: e.tNs, role: 'follower', term: e.hardState.term };
    } else if (e.type === 'role') {
      close(e.tNs);
      current = { startNs: e.tNs, role: e.role, term: e.term };
    } else if (e.type === 'stopped') close(e.tNs);
  }
  close(endNs);
  return spans;
}
