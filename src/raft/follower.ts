// Rules of a follower (and of a candidate that learns of a leader in its term): accept appends
// that match, refuse those that don't with a hint for fast backtracking, follow the leader's
// commit, assemble snapshot chunks, and campaign at once on TimeoutNow. A node rejoining with a
// lost log also tells the leader to forget what it had acknowledged (see handleHeartbeat).
import type { Message, InstallSnapshotMessage, AppendMessage } from './messages.js';
import type { Raft } from './raft.js';
import { Role } from './raft.js';

/** A snapshot being received in chunks. Held in memory until complete, then handed to Ready. */
export interface SnapshotReceipt {
  readonly from: string;
  readonly index: number;
  readonly term: number;
  readonly chunks: Uint8Array[];
  received: number;
}

export function stepFollower(r: Raft, message: Message): void {
  switch (message.type) {
    case 'append':
    case 'heartbeat':
    case 'installSnapshot':
      if (r.role !== Role.Follower) r.becomeFollower(message.term, message.from);
      r.leader = message.from;
      r.electionElapsed = 0;
      if (message.type === 'append') handleAppend(r, message);
      else if (message.type === 'heartbeat') handleHeartbeat(r, message.from, message.commit);
      else handleSnapshotChunk(r, message);
      if (message.type !== 'installSnapshot') r.onLeaderCommit(message.commit);
      return;
    case 'timeoutNow':
      if (r.role === Role.Follower) r.campaign('transfer');
      return;
    default:
      return;
  }
}

function handleAppend(r: Raft, message: AppendMessage): void {
  const respond = (index: number, reject: boolean, hintIndex = 0, hintTerm = 0): void =>
    r.send({ type: 'appendResponse', to: message.from, term: r.term, index, reject, hintIndex, hintTerm });
  if (message.prevIndex < r.log.committed) {
    // Committed entries are in every later leader's log: ours match this leader's up to there.
    r.matchedInTerm = Math.max(r.matchedInTerm, r.log.committed);
    respond(r.log.committed, false);
    return;
  }
  if (!r.log.matchTerm(message.prevIndex, message.prevTerm)) {
    const hint = r.log.findConflictByTerm(Math.min(message.prevIndex, r.log.lastIndex()), message.prevTerm);
    respond(message.prevIndex, true, hint.index, hint.term);
    return;
  }
  const lastNew = message.prevIndex + message.entries.length;
  const conflict = r.log.findConflict(message.entries);
  if (conflict !== 0) r.appendToLog(message.entries.slice(conflict - message.prevIndex - 1));
  r.matchedInTerm = Math.max(r.matchedInTerm, lastNew);
  r.log.commitTo(Math.min(message.commit, lastNew));
  respond(lastNew, false);
}

function handleHeartbeat(r: Raft, from: string, commit: number): void {
  if (r.catchUpGate === undefined) {
    r.log.commitTo(commit);
  } else {
    // Rejoin mode: the leader's match for us may predate the loss of our log, so its heartbeat
    // commit may exceed what we hold, or point at entries that differ from ours. Commit only
    // what is known to match this leader, and tell it (a refusal of index 0, which a log that
    // is intact never sends) to forget our match and probe for our log again.
    if (commit > r.matchedInTerm) {
      r.send({ type: 'appendResponse', to: from, term: r.term, index: 0, reject: true, hintIndex: r.log.lastIndex(), hintTerm: r.log.lastTerm() });
    }
    r.log.commitTo(Math.min(commit, r.matchedInTerm));
  }
  r.send({ type: 'heartbeatResponse', to: from, term: r.term });
}

function handleSnapshotChunk(r: Raft, message: InstallSnapshotMessage): void {
  const { meta } = message;
  const acknowledge = (index: number): void =>
    r.send({ type: 'appendResponse', to: message.from, term: r.term, index, reject: false, hintIndex: 0, hintTerm: 0 });
  if (meta.index <= r.log.committed) {
    r.snapshotReceipt = undefined;
    r.matchedInTerm = Math.max(r.matchedInTerm, r.log.committed);
    acknowledge(r.log.committed);
    return;
  }
  if (r.log.matchTerm(meta.index, meta.term)) {
    // Our log already holds the snapshot's last entry (perhaps since the transfer began, from a
    // late append): keep the log, which may go further, and only move the commit index.
    r.snapshotReceipt = undefined;
    r.matchedInTerm = Math.max(r.matchedInTerm, meta.index);
    r.log.commitTo(meta.index);
    r.onLeaderCommit(meta.index);
    acknowledge(meta.index);
    return;
  }
  let receipt = r.snapshotReceipt;
  if (message.offset === 0) {
    receipt = { from: message.from, index: meta.index, term: meta.term, chunks: [], received: 0 };
    r.snapshotReceipt = receipt;
  }
  const matches = receipt && receipt.index === meta.index && receipt.term === meta.term && receipt.from === message.from;
  if (!receipt || !matches || message.offset !== receipt.received || receipt.received + message.data.byteLength > message.totalBytes) {
    const nextOffset = receipt && matches && receipt.received <= message.totalBytes ? receipt.received : 0;
    r.send({ type: 'installSnapshotResponse', to: message.from, term: r.term, snapshotIndex: meta.index, nextOffset });
    return;
  }
  receipt.chunks.push(message.data.slice());
  receipt.received += message.data.byteLength;
  if (!message.done) {
    r.send({ type: 'installSnapshotResponse', to: message.from, term: r.term, snapshotIndex: meta.index, nextOffset: receipt.received });
    return;
  }
  r.snapshotReceipt = undefined;
  const data = new Uint8Array(receipt.received);
  let offset = 0;
  for (const chunk of receipt.chunks) {
    data.set(chunk, offset);
    offset += chunk.byteLength;
  }
  r.log.restore({ meta, data });
  r.configs.restore(meta.index, meta.config);
  r.matchedInTerm = meta.index;
  r.onLeaderCommit(meta.index);
  acknowledge(meta.index);
}
