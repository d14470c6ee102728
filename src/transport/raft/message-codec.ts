// One Raft message as compact msgpack: a tuple that starts with a type code, without `from` and
// `to` (the frame that carries it names both), entries without their index (consecutive after
// prevIndex). Decoding is total: whatever the bytes, it returns a message whose every field has the
// type and range of the Message union, or the reason it could not; it never throws.
//
//   preVote                  [0, term, lastIndex, lastTerm]
//   preVoteResponse          [1, term, reject]
//   vote                     [2, term, lastIndex, lastTerm, transfer]
//   voteResponse             [3, term, reject]
//   append                   [4, term, prevIndex, prevTerm, commit, [term, type, data, term, type, data, ...]]
//   appendResponse           [5, term, index, reject, hintIndex, hintTerm]
//   heartbeat                [6, term, commit]
//   heartbeatResponse        [7, term]
//   installSnapshot          [8, term, index, snapshotTerm, [voter...], [nonVoter...], offset, totalBytes, data, done]
//   installSnapshotResponse  [9, term, snapshotIndex, nextOffset]
//   timeoutNow               [10, term]
import { Packr, Unpackr } from 'msgpackr';
import type { Entry, EntryType } from '../../raft/types.js';
import type { ClusterConfig, Message } from '../../raft/messages.js';
import { isValidNodeId } from './node-id.js';

const TypeCode = {
  preVote: 0,
  preVoteResponse: 1,
  vote: 2,
  voteResponse: 3,
  append: 4,
  appendResponse: 5,
  heartbeat: 6,
  heartbeatResponse: 7,
  installSnapshot: 8,
  installSnapshotResponse: 9,
  timeoutNow: 10,
} as const satisfies Record<Message['type'], number>;

/** The codec's msgpack settings: plain arrays (no record extension); decoded bytes are copies. */
export class MessageCodec {
  private readonly packr = new Packr({ useRecords: false });
  // copyBuffers: entry data outlives the NATS payload it came in, which the connection may reuse.
  private readonly unpackr = new Unpackr({ useRecords: false, copyBuffers: true });

  /** The message's encoding; it may share an ArrayBuffer with earlier encodings, never overlap them. */
  encode(message: Message): Uint8Array {
    return this.packr.pack(toTuple(message));
  }

  /** The message, addressed from `from` to `to`, or why the bytes are not one. */
  decode(bytes: Uint8Array, from: string, to: string): Message | string {
    let tuple: unknown;
    try {
      tuple = this.unpackr.unpack(bytes);
    } catch (error) {
      return `bad msgpack: ${(error as Error).message}`;
    }
    try {
      return fromTuple(tuple, from, to);
    } catch (error) {
      if (error instanceof ShapeError) return error.message;
      return `bad message: ${String(error)}`;
    }
  }
}

function toTuple(message: Message): unknown[] {
  switch (message.type) {
    case 'preVote':
      return [TypeCode.preVote, message.term, message.lastIndex, message.lastTerm];
    case 'preVoteResponse':
      return [TypeCode.preVoteResponse, message.term, message.reject];
    case 'vote':
      return [TypeCode.vote, message.term, message.lastIndex, message.lastTerm, message.transfer];
    case 'voteResponse':
      return [TypeCode.voteResponse, message.term, message.reject];
    case 'append': {
      const entries: unknown[] = [];
      for (const entry of message.entries) entries.push(entry.term, entry.type, entry.data);
      return [TypeCode.append, message.term, message.prevIndex, message.prevTerm, message.commit, entries];
    }
    case 'appendResponse':
      return [TypeCode.appendResponse, message.term, message.index, message.reject, message.hintIndex, message.hintTerm];
    case 'heartbeat':
      return [TypeCode.heartbeat, message.term, message.commit];
    case 'heartbeatResponse':
      return [TypeCode.heartbeatResponse, message.term];
    case 'installSnapshot': {
      const { meta } = message;
      return [
        TypeCode.installSnapshot,
        message.term,
        meta.index,
        meta.term,
        meta.config.voters,
        meta.config.nonVoters,
        message.offset,
        message.totalBytes,
        message.data,
        message.done,
      ];
    }
    case 'installSnapshotResponse':
      return [TypeCode.installSnapshotResponse, message.term, message.snapshotIndex, message.nextOffset];
    case 'timeoutNow':
      return [TypeCode.timeoutNow, message.term];
  }
}

class ShapeError extends Error {}

function fail(reason: string): never {
  throw new ShapeError(reason);
}

/** Reads the fields of one tuple in order, each checked for its type. */
class TupleReader {
  private position = 1;

  constructor(
    private readonly tuple: readonly unknown[],
    private readonly name: string,
  ) {}

  counter(field: string): number {
    const value = this.tuple[this.position++];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail(`${this.name}: bad ${field}`);
    return value;
  }

  flag(field: string): boolean {
    const value = this.tuple[this.position++];
    if (typeof value !== 'boolean') fail(`${this.name}: bad ${field}`);
    return value;
  }

  bytes(field: string): Uint8Array {
    const value = this.tuple[this.position++];
    if (!(value instanceof Uint8Array)) fail(`${this.name}: bad ${field}`);
    return value;
  }

  list(field: string): readonly unknown[] {
    const value = this.tuple[this.position++];
    if (!Array.isArray(value)) fail(`${this.name}: bad ${field}`);
    return value;
  }

  nodeIds(field: string): string[] {
    const list = this.list(field);
    for (const id of list) if (typeof id !== 'string' || !isValidNodeId(id)) fail(`${this.name}: bad ${field}`);
    return list as string[];
  }
}

const arity: Readonly<Record<number, number>> = { 0: 4, 1: 3, 2: 5, 3: 3, 4: 6, 5: 6, 6: 3, 7: 2, 8: 10, 9: 4, 10: 2 };

function fromTuple(tuple: unknown, from: string, to: string): Message {
  if (!Array.isArray(tuple) || tuple.length === 0) fail('not a message tuple');
  const code = tuple[0] as unknown;
  if (typeof code !== 'number' || arity[code] === undefined) fail(`unknown message type ${String(code)}`);
  if (tuple.length !== arity[code]) fail(`message type ${code} has ${tuple.length} fields`);
  const read = new TupleReader(tuple, `message type ${code}`);
  const term = read.counter('term');
  switch (code) {
    case TypeCode.preVote:
      return { type: 'preVote', from, to, term, lastIndex: read.counter('lastIndex'), lastTerm: read.counter('lastTerm') };
    case TypeCode.preVoteResponse:
      return { type: 'preVoteResponse', from, to, term, reject: read.flag('reject') };
    case TypeCode.vote:
      return {
        type: 'vote',
        from,
        to,
        term,
        lastIndex: read.counter('lastIndex'),
        lastTerm: read.counter('lastTerm'),
        transfer: read.flag('transfer'),
      };
    case TypeCode.voteResponse:
      return { type: 'voteResponse', from, to, term, reject: read.flag('reject') };
    case TypeCode.append: {
      const prevIndex = read.counter('prevIndex');
      const prevTerm = read.counter('prevTerm');
      const commit = read.counter('commit');
      return { type: 'append', from, to, term, prevIndex, prevTerm, commit, entries: readEntries(read.list('entries'), prevIndex) };
    }
    case TypeCode.appendResponse:
      return {
        type: 'appendResponse',
        from,
        to,
        term,
        index: read.counter('index'),
        reject: read.flag('reject'),
        hintIndex: read.counter('hintIndex'),
        hintTerm: read.counter('hintTerm'),
      };
    case TypeCode.heartbeat:
      return { type: 'heartbeat', from, to, term, commit: read.counter('commit') };
    case TypeCode.heartbeatResponse:
      return { type: 'heartbeatResponse', from, to, term };
    case TypeCode.installSnapshot: {
      const index = read.counter('snapshot index');
      const snapshotTerm = read.counter('snapshot term');
      const config: ClusterConfig = { voters: read.nodeIds('voters'), nonVoters: read.nodeIds('nonVoters') };
      return {
        type: 'installSnapshot',
        from,
        to,
        term,
        meta: { index, term: snapshotTerm, config },
        offset: read.counter('offset'),
        totalBytes: read.counter('totalBytes'),
        data: read.bytes('data'),
        done: read.flag('done'),
      };
    }
    case TypeCode.installSnapshotResponse:
      return {
        type: 'installSnapshotResponse',
        from,
        to,
        term,
        snapshotIndex: read.counter('snapshotIndex'),
        nextOffset: read.counter('nextOffset'),
      };
    case TypeCode.timeoutNow:
      return { type: 'timeoutNow', from, to, term };
    default:
      return fail(`unknown message type ${code}`);
  }
}

function readEntries(flat: readonly unknown[], prevIndex: number): Entry[] {
  if (flat.length % 3 !== 0) fail('append: entries are not (term, type, data) triples');
  if (prevIndex + flat.length / 3 > Number.MAX_SAFE_INTEGER) fail('append: entry index out of range');
  const entries: Entry[] = [];
  for (let at = 0; at < flat.length; at += 3) {
    const term = flat[at];
    const type = flat[at + 1];
    const data = flat[at + 2];
    if (typeof term !== 'number' || !Number.isSafeInteger(term) || term < 0) fail('append: bad entry term');
    if (type !== 0 && type !== 1 && type !== 2) fail('append: bad entry type');
    if (!(data instanceof Uint8Array)) fail('append: bad entry data');
    entries.push({ index: prevIndex + 1 + at / 3, term, type: type as EntryType, data });
  }
  return entries;
}
