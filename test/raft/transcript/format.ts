// Compact one-line descriptions of messages and entries for transcript output.
import type { Entry } from '../../../src/raft/types.js';
import type { Message } from '../../../src/raft/messages.js';

const decoder = new TextDecoder();

export function describeEntry(entry: Entry): string {
  const kind = entry.type === 0 ? decoder.decode(entry.data) : entry.type === 1 ? `config ${decoder.decode(entry.data)}` : 'noop';
  return `${entry.index}/${entry.term} ${kind}`;
}

export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  switch (m.type) {
    case 'preVote':
    case 'vote':
      return `${head} last=${m.lastIndex}/${m.lastTerm}${m.type === 'vote' && m.transfer ? ' transfer' : ''}`;
    case 'preVoteResponse':
    case 'voteResponse':
      return `${head}${m.reject ? ' REJECT' : ''}`;
    case 'append':
      return `${head} prev=${m.prevIndex}/${m.prevTerm} commit=${m.commit} entries=[${m.entries.map((e) => `${e.index}/${e.term}`).join(' ')}]`;
    case 'appendResponse':
      return m.reject ? `${head} REJECT index=${m.index} hint=${m.hintIndex}/${m.hintTerm}` : `${head} index=${m.index}`;
    case 'heartbeat':
      return `${head} commit=${m.commit}`;
    case 'installSnapshot':
      return `${head} snapshot=${m.meta.index}/${m.meta.term} offset=${m.offset} bytes=${m.data.byteLength}/${m.totalBytes}${m.done ? ' done' : ''}`;
    case 'installSnapshotResponse':
      return `${head} snapshot=${m.snapshotIndex} next=${m.nextOffset}`;
    case 'heartbeatResponse':
    case 'timeoutNow':
      return head;
  }
}
