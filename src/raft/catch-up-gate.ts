// The catch-up gate of a node whose Raft state was lost: its disk was wiped or damaged and it
// restarted with an empty log and hard state while the cluster exists (the application decides
// this at startup and starts the node in rejoin mode). Such a node has forgotten whom it voted
// for and which entries it acknowledged. Voting on an empty log would make any candidate look up
// to date, so a candidate missing committed entries could win with its vote, and it could vote a
// second time in a term it already voted in. So, until it has caught up, it neither votes
// (PreVote or Vote) nor campaigns; it still takes appends and snapshots from a leader.
//
// Caught up means: a leader of its current term has been heard, the node's commit index has
// reached the highest commit index any leader reported to it in this incarnation (so it holds,
// matching the leader, every entry the leader reported committed), and the entry at its commit
// index is of the current term. That last part matters because a new leader's commit index may
// still lag entries committed in earlier terms; once an entry of the leader's own term is
// committed, every entry committed before it lies below it. Nothing about the gate is persisted:
// a restart while still gated is again a start in rejoin mode.

export class CatchUpGate {
  /** Whether a leader of some term has reported its commit index in this incarnation. */
  private contacted = false;
  /** The highest commit index a leader reported (appends, heartbeats, snapshots). */
  private commitHeard = 0;
  closed = true;

  /** A leader reported `commit` (an append's commit, a heartbeat's, a snapshot's index). */
  onLeaderCommit(commit: number): void {
    this.contacted = true;
    if (commit > this.commitHeard) this.commitHeard = commit;
  }

  /**
   * Opens the gate when the node has caught up; returns whether it opened now. `leader` is the
   * leader of the current term ('' if none), `committed` the node's commit index and
   * `committedTerm` the term of the entry there.
   */
  maybeOpen(leader: string, term: number, committed: number, committedTerm: number | undefined): boolean {
    if (!this.closed || !this.contacted || leader === '') return false;
    if (committed < this.commitHeard || committedTerm !== term) return false;
    this.closed = false;
    return true;
  }

  /** The commit index the node must reach before the gate can open. */
  target(): number {
    return this.commitHeard;
  }
}
