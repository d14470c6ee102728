// The leader's rules: replicate with bounded batches and a bounded in-flight window per follower,
// probe followers whose log is unknown (backtracking with the follower's term hint), send
// snapshots in chunks to followers behind the compacted log, commit by the paper's rule, and
// CheckQuorum. Membership changes and leadership transfer are in leader-membership.ts.
import type { Message } from './messages.js';
import type { Raft } from './raft.js';
import type { Progress } from './progress.js';
import { Role } from './raft.js';
import { ProgressState } from './progress.js';
import { entryBytes } from './messages.js';
import { EntryType } from './types.js';
import { committedIndex, quorumActive } from './quorum.js';
import { maybePromoteNonVoter, stepDownRemoved } from './leader-membership.js';

/** Ticks a replicating follower may go without acknowledging before it is probed again. */
const replicateStallTicks = 4;

export function appendNoopAsLeader(r: Raft): void {
  // A new leader commits an entry of its own term first: that commits everything before it
  // (the paper's commit rule) and must precede any membership change (Ongaro, raft-dev 2015).
  r.appendToLog([{ index: r.log.lastIndex() + 1, term: r.term, type: EntryType.Noop, data: new Uint8Array(0) }]);
  broadcastAppend(r);
}

export function broadcastAppend(r: Raft): void {
  for (const id of r.progress.keys()) {
    if (id !== r.id) sendAppend(r, id, false);
  }
}

function broadcastHeartbeat(r: Raft): void {
  for (const [id, progress] of r.progress) {
    if (id === r.id) continue;
    r.send({ type: 'heartbeat', to: id, term: r.term, commit: Math.min(progress.match, r.log.committed) });
  }
}

/** Send the next batch to `to` if its state allows; returns whether something was sent. */
export function sendAppend(r: Raft, to: string, sendIfEmpty: boolean): boolean {
  const progress = r.progress.get(to);
  if (!progress || progress.paused()) return false;
  const prevIndex = progress.next - 1;
  const prevTerm = r.log.term(prevIndex);
  const entries = r.log.entries(progress.next, r.log.lastIndex() + 1, r.options.appendEntriesMax, r.options.appendBytesMax);
  if (prevTerm === undefined || entries === undefined) return sendSnapshot(r, to, progress);
  if (entries.length === 0 && !sendIfEmpty) return false;
  r.send({ type: 'append', to, term: r.term, prevIndex, prevTerm, entries, commit: r.log.committed });
  const last = entries[entries.length - 1];
  if (last && progress.state === ProgressState.Replicate) {
    let bytes = 0;
    for (const entry of entries) bytes += entryBytes(entry);
    progress.next = last.index + 1;
    progress.inflights.add(last.index, bytes);
  } else if (progress.state === ProgressState.Probe) {
    progress.probeSent = true;
  }
  return true;
}

function sendSnapshot(r: Raft, to: string, progress: Progress): boolean {
  const snapshot = r.storage.snapshot();
  if (!snapshot) {
    r.options.logger?.warn({ id: r.id, to }, 'raft: follower needs a snapshot but none is stored');
    return false;
  }
  progress.becomeSnapshot(snapshot.meta.index);
  sendSnapshotChunk(r, to, progress);
  return true;
}

function sendSnapshotChunk(r: Raft, to: string, progress: Progress): void {
  const snapshot = r.storage.snapshot();
  if (!snapshot) return;
  if (snapshot.meta.index !== progress.snapshotIndex) {
    // A newer snapshot replaced the one being sent: start over with it.
    progress.becomeSnapshot(snapshot.meta.index);
  }
  const offset = progress.snapshotOffset;
  const data = snapshot.data.subarray(offset, offset + r.options.snapshotChunkBytes);
  const done = offset + data.byteLength >= snapshot.data.byteLength;
  progress.idleTicks = 0;
  r.send({ type: 'installSnapshot', to, term: r.term, meta: snapshot.meta, offset, totalBytes: snapshot.data.byteLength, data, done });
}

export function tickLeader(r: Raft): void {
  r.heartbeatElapsed++;
  r.electionElapsed++;
  if (r.electionElapsed >= r.options.electionTicks) {
    r.electionElapsed = 0;
    if (r.options.checkQuorum) {
      const voters = r.configs.current().voters;
      const active = quorumActive(voters, (id) => id === r.id || r.progress.get(id)?.recentActive === true);
      if (!active) {
        r.options.logger?.info({ id: r.id, term: r.term }, 'raft: leader lost its quorum, stepping down');
        r.becomeFollower(r.term, '');
        return;
      }
      for (const [id, progress] of r.progress) if (id !== r.id) progress.recentActive = false;
    }
    // A transfer that has not finished within an election timeout is abandoned.
    r.transferee = '';
  }
  for (const [id, progress] of r.progress) {
    if (id === r.id) continue;
    if (progress.state === ProgressState.Snapshot && ++progress.idleTicks >= r.options.snapshotRetryTicks) {
      sendSnapshotChunk(r, id, progress);
    } else if (progress.state === ProgressState.Replicate && progress.inflights.count() > 0) {
      progress.idleTicks++;
    }
  }
  if (r.heartbeatElapsed >= r.options.heartbeatTicks) {
    r.heartbeatElapsed = 0;
    broadcastHeartbeat(r);
  }
  if (r.options.promoteNonVoters) maybePromoteNonVoter(r);
}

export function stepLeader(r: Raft, message: Message): void {
  const progress = r.progress.get(message.from);
  if (!progress) return;
  switch (message.type) {
    case 'appendResponse':
      progress.recentActive = true;
      if (message.reject) handleAppendRejected(r, message.from, progress, message);
      else handleAppendAccepted(r, message.from, progress, message.index);
      return;
    case 'heartbeatResponse':
      progress.recentActive = true;
      progress.probeSent = false;
      if (progress.state === ProgressState.Replicate && progress.idleTicks >= replicateStallTicks) {
        // Acknowledgements stopped coming: assume messages were lost and find the match again.
        progress.becomeProbe();
      }
      if (progress.match < r.log.lastIndex()) sendAppend(r, message.from, progress.state === ProgressState.Probe);
      return;
    case 'installSnapshotResponse':
      progress.recentActive = true;
      if (progress.state !== ProgressState.Snapshot || message.snapshotIndex !== progress.snapshotIndex) return;
      progress.snapshotOffset = message.nextOffset;
      if (message.nextOffset < (r.storage.snapshot()?.data.byteLength ?? 0)) sendSnapshotChunk(r, message.from, progress);
      return;
    default:
      return;
  }
}

function handleAppendRejected(
  r: Raft,
  from: string,
  progress: Progress,
  message: Extract<Message, { type: 'appendResponse' }>,
): void {
  // Fast backtracking: jump to the last index where our log's term is at most the follower's.
  const hint = message.hintTerm > 0 ? r.log.findConflictByTerm(message.hintIndex, message.hintTerm).index : message.hintIndex;
  if (message.index === 0) {
    // Index 0 always matches, so this is no refusal of an append: a follower rejoining with a
    // lost log says it no longer holds what it acknowledged. Forgetting its match is safe (it
    // only delays commitment until it acknowledges again); probing finds its log.
    if (progress.match === 0) return;
    r.options.logger?.info({ id: r.id, follower: from, match: progress.match }, 'raft: follower lost its log; probing it again');
    progress.forgetMatch(hint);
    sendAppend(r, from, true);
    return;
  }
  if (!progress.maybeDecrTo(message.index, hint)) return;
  if (progress.state === ProgressState.Replicate) progress.becomeProbe();
  sendAppend(r, from, true);
}

function handleAppendAccepted(r: Raft, from: string, progress: Progress, index: number): void {
  const wasProbe = progress.state === ProgressState.Probe;
  const updated = progress.maybeUpdate(index);
  if (!updated && !(wasProbe && index === progress.match)) return;
  progress.idleTicks = 0;
  if (progress.state === ProgressState.Probe) {
    progress.becomeReplicate();
  } else if (progress.state === ProgressState.Snapshot) {
    if (progress.match >= progress.snapshotIndex) {
      progress.becomeProbe();
      progress.becomeReplicate();
    }
  } else {
    progress.inflights.freeLE(index);
  }
  maybeCommit(r);
  if (r.role !== Role.Leader) return;
  for (let sends = 0; sends < r.options.inflightMessagesMax && sendAppend(r, from, false); sends++);
  if (from === r.transferee && progress.match === r.log.lastIndex()) {
    r.send({ type: 'timeoutNow', to: from, term: r.term });
  }
}

/** Advance the commit index by the quorum rule: only an entry of the current term commits by count. */
export function maybeCommit(r: Raft): boolean {
  const voters = r.configs.current().voters;
  const quorumIndex = committedIndex(voters, (id) => r.progress.get(id)?.match ?? 0);
  if (quorumIndex <= r.log.committed) return false;
  if (r.log.term(quorumIndex) !== r.term && r.options.bugs.commitEarlierTerm !== true) return false;
  r.log.commitTo(quorumIndex);
  const committedConfig = r.configs.at(r.log.committed);
  if (committedConfig && !committedConfig.voters.includes(r.id) && r.configs.latestIndex() <= r.log.committed) {
    stepDownRemoved(r);
  }
  return true;
}
