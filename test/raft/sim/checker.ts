// The simulator's invariant checkers: election safety (one leader per term, one durable vote per
// node and term, even across a wiped disk), log matching, leader completeness, state-machine
// safety, commit never regressing, and no acknowledged proposal lost.
import type { Entry } from '../../../src/raft/types.js';

export const FailureKind = { Correctness: 'correctness', Liveness: 'liveness', Crash: 'crash' } as const;
export type FailureKind = (typeof FailureKind)[keyof typeof FailureKind];

export class SimFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'SimFailure';
  }
}

interface AppliedRecord {
  readonly term: number;
  readonly digest: number;
  readonly proposal: string;
}

/** FNV-1a over bytes, continuing from `hash`. */
export function fnv(hash: number, bytes: Uint8Array): number {
  let h = hash >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function mixNumber(hash: number, value: number): number {
  const low = Math.imul(hash ^ (value | 0), 0x01000193);
  return Math.imul(low ^ ((value / 0x100000000) | 0), 0x01000193) >>> 0;
}

export class Checker {
  private readonly leaderOfTerm = new Map<number, string>();
  /** What was applied at each index, by whichever node applied it first. */
  private readonly applied = new Map<number, AppliedRecord>();
  private readonly indexOfProposal = new Map<string, number>();
  /** Entry content by "index/term": two logs holding the same (index, term) hold the same entry. */
  private readonly entryAt = new Map<string, number>();
  private readonly acked = new Map<string, number>();
  private readonly durableCommit = new Map<string, number>();
  /** Durable vote by "node/term": a node's vote in a term never changes, whatever its disk does. */
  private readonly votes = new Map<string, string>();
  maxAppliedIndex = 0;
  violations = 0;

  fail(message: string): never {
    this.violations++;
    throw new SimFailure(FailureKind.Correctness, message);
  }

  onLeader(id: string, term: number, termAt: (index: number) => number | undefined, firstIndex: number): void {
    const previous = this.leaderOfTerm.get(term);
    if (previous !== undefined && previous !== id) this.fail(`election safety: ${previous} and ${id} both led term ${term}`);
    this.leaderOfTerm.set(term, id);
    // Leader completeness: the newest entry anyone applied (so committed) is in the new log.
    const index = this.maxAppliedIndex;
    const record = this.applied.get(index);
    if (!record || index < firstIndex) return;
    const ourTerm = termAt(index);
    if (ourTerm !== record.term) {
      this.fail(`leader completeness: ${id} leads term ${term} without committed entry ${index}/${record.term} (has term ${String(ourTerm)})`);
    }
  }

  /** Only one node sends AppendEntries in a term, and it is that term's leader. */
  onLeaderTraffic(id: string, term: number): void {
    const leader = this.leaderOfTerm.get(term);
    if (leader === undefined) this.leaderOfTerm.set(term, id);
    else if (leader !== id) this.fail(`election safety: ${id} sends appends in term ${term}, led by ${leader}`);
  }

  leaderTerms(): number {
    return this.leaderOfTerm.size;
  }

  onDurableEntries(id: string, entries: readonly Entry[]): void {
    for (const entry of entries) {
      const key = `${entry.index}/${entry.term}`;
      const hash = fnv(entry.type + 1, entry.data);
      const known = this.entryAt.get(key);
      if (known === undefined) this.entryAt.set(key, hash);
      else if (known !== hash) this.fail(`log matching: ${id} holds a different entry at ${key}`);
    }
  }

  onApply(id: string, index: number, term: number, digest: number, proposal: string): void {
    const record = this.applied.get(index);
    if (record === undefined) {
      if (proposal !== '') {
        const other = this.indexOfProposal.get(proposal);
        if (other !== undefined && other !== index) this.fail(`state machine: proposal ${proposal} applied at ${other} and ${index}`);
        this.indexOfProposal.set(proposal, index);
      }
      this.applied.set(index, { term, digest, proposal });
      if (index > this.maxAppliedIndex) this.maxAppliedIndex = index;
      return;
    }
    if (record.digest !== digest || record.term !== term) {
      this.fail(`state machine safety: ${id} applied ${index}/${term} with state ${digest}, others ${record.term}/${record.digest}`);
    }
  }

  /** A node restored a snapshot at `index` whose state must equal what others applied there. */
  onRestore(id: string, index: number, digest: number): void {
    const record = this.applied.get(index);
    if (record && record.digest !== digest) this.fail(`state machine safety: ${id} restored a snapshot at ${index} that differs`);
  }

  onAck(proposal: string, index: number): void {
    this.acked.set(proposal, index);
  }

  onDurableCommit(id: string, commit: number): void {
    const previous = this.durableCommit.get(id) ?? 0;
    if (commit < previous) this.fail(`commit regressed on ${id}: durable ${previous}, now ${commit}`);
    this.durableCommit.set(id, commit);
  }

  /** `id` holds a durable vote for `vote` in `term`. */
  onDurableVote(id: string, term: number, vote: string): void {
    if (vote === '') return;
    const key = `${id}/${term}`;
    const previous = this.votes.get(key);
    if (previous === undefined) this.votes.set(key, vote);
    else if (previous !== vote) this.fail(`double vote: ${id} voted for ${previous} and ${vote} in term ${term}`);
  }

  /** `id` lost its disk: its durable commit starts again from nothing (its votes are remembered). */
  onWipe(id: string): void {
    this.durableCommit.delete(id);
  }

  ackedCount(): number {
    return this.acked.size;
  }

  /** Every acknowledged proposal is in the applied history, at the index it was acknowledged. */
  checkAcked(appliedEverywhere: number): void {
    for (const [proposal, index] of this.acked) {
      if (index > appliedEverywhere) this.fail(`acknowledged ${proposal} at ${index} but nodes applied only ${appliedEverywhere}`);
      const record = this.applied.get(index);
      if (record?.proposal !== proposal) this.fail(`acknowledged ${proposal} lost: index ${index} holds ${record?.proposal ?? 'nothing'}`);
    }
  }

  /** Log matching over whole logs: where two logs agree on a term, they agree on everything before. */
  checkLogMatching(logs: ReadonlyMap<string, readonly Entry[]>): void {
    const ids = [...logs.keys()];
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++) {
        const a = logs.get(ids[i]!)!;
        const b = logs.get(ids[j]!)!;
        const byIndex = new Map(b.map((entry) => [entry.index, entry]));
        let agreed = false;
        for (let k = a.length - 1; k >= 0; k--) {
          const entry = a[k]!;
          const other = byIndex.get(entry.index);
          if (!other) continue;
          if (other.term === entry.term) agreed = true;
          if (agreed && (other.term !== entry.term || fnv(1, other.data) !== fnv(1, entry.data))) {
            this.fail(`log matching: ${ids[i]} and ${ids[j]} agree later but differ at ${entry.index}`);
          }
        }
      }
    }
  }
}
