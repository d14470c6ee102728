// Raft's safety properties checked over every node's trace (docs/testing.md §5.5, check 5):
// - election safety: at most one node leads in a term (a `leader` role or the first AppendEntries
//   or heartbeat it sent in that term, as hashicorp/raft's fuzzy transport verifier counts it);
// - log matching: one (index, term) holds one entry, on every node, across restarts;
// - state-machine safety: the entry applied at an index is the same on every node and every start;
// - durability: on one node, term and commit never go back and the vote never changes within a
//   term, neither while it runs nor across a restart (a restart must find what was fsynced); a
//   node started on a wiped disk (`rejoining`) starts a new baseline;
// - commit quorum: an entry is first applied only after a majority persisted it (etcd#14370).
// Time order across nodes comes from the system's monotonic clock, which every node stamps.
import type { EntryFact, HardStateFact, TraceEvent } from '../cluster/trace.js';

export type InvariantKind = 'electionSafety' | 'logMatching' | 'stateMachineSafety' | 'regression' | 'commitQuorum';

export interface InvariantViolation {
  readonly kind: InvariantKind;
  readonly detail: string;
}

export interface InvariantResult {
  readonly counts: Record<InvariantKind, number>;
  readonly examples: readonly InvariantViolation[];
  readonly events: number;
  readonly valid: boolean;
}

export interface InvariantOptions {
  /** Voters; a commit needs floor(n/2)+1 of them. Omit when membership changes during the run. */
  readonly voters?: number;
  /** Nodes fsync before they answer (`--cluster_sync`, the default): restarts must find what was persisted. */
  readonly durable: boolean;
  /**
   * Nodes whose data the harness damaged on purpose at `atNs` (a cut log tail, bit flips): their
   * next start begins a new baseline, as a wiped node's does.
   */
  readonly damaged?: ReadonlyArray<{ readonly node: string; readonly atNs: number }>;
}

const EXAMPLES_PER_KIND = 5;

class Findings {
  readonly counts: Record<InvariantKind, number> = { electionSafety: 0, logMatching: 0, stateMachineSafety: 0, regression: 0, commitQuorum: 0 };
  readonly examples: InvariantViolation[] = [];

  add(kind: InvariantKind, detail: string): void {
    this.counts[kind]++;
    if (this.examples.filter((e) => e.kind === kind).length < EXAMPLES_PER_KIND) this.examples.push({ kind, detail });
  }
}

function checkElectionSafety(events: readonly TraceEvent[], findings: Findings): void {
  const leaderOf = new Map<number, string>();
  for (const event of events) {
    const term = event.type === 'lead' ? event.term : event.type === 'role' && event.role === 'leader' ? event.term : undefined;
    if (term === undefined) continue;
    const known = leaderOf.get(term);
    if (known === undefined) leaderOf.set(term, event.node);
    else if (known !== event.node) findings.add('electionSafety', `term ${term} has two leaders: ${known} and ${event.node}`);
  }
}

function checkEntries(events: readonly TraceEvent[], findings: Findings): void {
  const entryAt = new Map<string, { hash: string; node: string }>();
  const appliedAt = new Map<number, { term: number; hash: string; node: string }>();
  const note = (fact: EntryFact, node: string) => {
    const [index, term, hash] = fact;
    const key = `${index}:${term}`;
    const known = entryAt.get(key);
    if (known === undefined) entryAt.set(key, { hash, node });
    else if (known.hash !== hash) findings.add('logMatching', `index ${index} term ${term} holds ${known.hash} on ${known.node} and ${hash} on ${node}`);
  };
  for (const event of events) {
    if (event.type === 'persisted') for (const fact of event.entries) note(fact, event.node);
    if (event.type !== 'applied') continue;
    for (const fact of event.entries) {
      note(fact, event.node);
      const [index, term, hash] = fact;
      const known = appliedAt.get(index);
      if (known === undefined) appliedAt.set(index, { term, hash, node: event.node });
      else if (known.term !== term || known.hash !== hash) {
        findings.add('stateMachineSafety', `index ${index} applied as ${known.term}/${known.hash} on ${known.node} and ${term}/${hash} on ${event.node}`);
      }
    }
  }
}

function regressed(from: HardStateFact, to: HardStateFact): string | undefined {
  if (to.term < from.term) return `term ${from.term} -> ${to.term}`;
  if (to.term === from.term && from.vote !== '' && to.vote !== from.vote) return `vote in term ${to.term} ${from.vote} -> ${to.vote || '(none)'}`;
  if (to.commit < from.commit) return `commit ${from.commit} -> ${to.commit}`;
  return undefined;
}

function checkRegressions(events: readonly TraceEvent[], durable: boolean, damagedAtNs: readonly number[], findings: Findings): void {
  let current: HardStateFact | undefined;
  let synced: HardStateFact | undefined;
  let roleTerm = 0;
  let previousStartNs = Number.NEGATIVE_INFINITY;
  for (const event of events) {
    if (event.type === 'start') {
      const loaded = event.hardState;
      const damaged = damagedAtNs.some((at) => at > previousStartNs && at < event.tNs);
      previousStartNs = event.tNs;
      const lost = event.rejoining || damaged || !durable || synced === undefined ? undefined : regressed(synced, loaded);
      if (lost !== undefined) findings.add('regression', `${event.node} restarted (pid ${event.pid}) with ${lost}: fsynced state lost`);
      current = loaded;
      synced = loaded;
      roleTerm = loaded.term;
    } else if (event.type === 'persisted' && event.hardState !== undefined) {
      const went = current === undefined ? undefined : regressed(current, event.hardState);
      if (went !== undefined) findings.add('regression', `${event.node} persisted ${went}`);
      current = event.hardState;
      if (event.mustSync) synced = current;
    } else if (event.type === 'persisted' && event.mustSync && current !== undefined) {
      synced = current;
    } else if (event.type === 'role') {
      if (event.term < roleTerm) findings.add('regression', `${event.node} went back from term ${roleTerm} to ${event.term}`);
      roleTerm = Math.max(roleTerm, event.term);
    }
  }
}

/** Every index's first application anywhere must follow persists of that entry on a majority. */
function checkCommitQuorum(events: readonly TraceEvent[], voters: number, findings: Findings): void {
  const majority = Math.floor(voters / 2) + 1;
  const holders = new Map<string, Set<string>>();
  const firstApplied = new Set<number>();
  for (const event of events) {
    // A node found at start what it had persisted: a kill right after a write loses its trace line, not the write.
    const persisted = event.type === 'persisted' ? event.entries : event.type === 'start' ? (event.uncommitted ?? []) : undefined;
    if (persisted !== undefined) {
      for (const [index, term, hash] of persisted) {
        const key = `${index}:${term}:${hash}`;
        let set = holders.get(key);
        if (set === undefined) holders.set(key, (set = new Set()));
        set.add(event.node);
      }
    } else if (event.type === 'applied') {
      for (const [index, term, hash] of event.entries) {
        if (firstApplied.has(index)) continue;
        firstApplied.add(index);
        // The founding configuration (index 1) is written by every founder at bootstrap, untraced.
        if (index === 1) continue;
        const count = holders.get(`${index}:${term}:${hash}`)?.size ?? 0;
        if (count < majority) findings.add('commitQuorum', `index ${index} term ${term} applied on ${event.node} while only ${count} of ${voters} nodes had persisted it`);
      }
    }
  }
}

export function checkRaftInvariants(traces: ReadonlyMap<string, readonly TraceEvent[]>, options: InvariantOptions): InvariantResult {
  const findings = new Findings();
  const merged = [...traces.values()].flat().sort((a, b) => a.tNs - b.tNs);
  checkElectionSafety(merged, findings);
  checkEntries(merged, findings);
  for (const [node, events] of traces) {
    const damagedAtNs = (options.damaged ?? []).filter((d) => d.node === node).map((d) => d.atNs);
    checkRegressions(events, options.durable, damagedAtNs, findings);
  }
  if (options.voters !== undefined) checkCommitQuorum(merged, options.voters, findings);
  const total = Object.values(findings.counts).reduce((a, b) => a + b, 0);
  return { counts: findings.counts, examples: findings.examples, events: merged.length, valid: total === 0 };
}
