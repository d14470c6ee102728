// The leader's view of one follower (etcd's tracker.Progress): how far it matches, what to send
// next, and whether it is being probed, streamed to, or sent a snapshot.
import { Inflights } from './inflights.js';

export const ProgressState = { Probe: 'probe', Replicate: 'replicate', Snapshot: 'snapshot' } as const;
export type ProgressState = (typeof ProgressState)[keyof typeof ProgressState];

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = ProgressState.Probe;
  /** In probe state: one append is outstanding, send no more until a response or heartbeat. */
  probeSent = false;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  /** In snapshot state: the snapshot being sent and the offset acknowledged. */
  snapshotIndex = 0;
  snapshotOffset = 0;
  /** Ticks without an acknowledgement while something is outstanding (snapshot or replicate). */
  idleTicks = 0;
  readonly inflights: Inflights;

  constructor(next: number, inflightMessagesMax: number, inflightBytesMax: number) {
    this.next = next;
    this.inflights = new Inflights(inflightMessagesMax, inflightBytesMax);
  }

  becomeProbe(): void {
    if (this.state === ProgressState.Snapshot) {
      this.next = Math.max(this.match + 1, this.snapshotIndex + 1);
    } else {
      this.next = this.match + 1;
    }
    this.resetState(ProgressState.Probe);
  }

  becomeReplicate(): void {
    this.next = this.match + 1;
    this.resetState(ProgressState.Replicate);
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot);
    this.snapshotIndex = snapshotIndex;
  }

  private resetState(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.snapshotIndex = 0;
    this.snapshotOffset = 0;
    this.idleTicks = 0;
    this.inflights.reset();
  }

  /** An acknowledgement of `index`; returns whether it moved the match forward. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * A rejection of `rejected` (the prevIndex sent) with the follower's hint of where its log may
   * match. Returns false when the rejection is stale and must be ignored.
   */
  maybeDecrTo(rejected: number, hintIndex: number): boolean {
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hintIndex + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  /** The follower lost its log: nothing is known to match; probe from after `hintIndex`. */
  forgetMatch(hintIndex: number): void {
    this.match = 0;
    this.resetState(ProgressState.Probe);
    this.next = Math.max(1, hintIndex + 1);
  }

  /** Whether no append may be sent now. */
  paused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.probeSent;
      case ProgressState.Replicate:
        return this.inflights.full();
      case ProgressState.Snapshot:
        return true;
    }
  }
}
