// Messages come off the network: check their shape before the core trusts them, so that bad
// input gives a clear RAFT_BAD_MESSAGE error and never a broken invariant.
import type { Message } from './messages.js';
import { RaftError, RaftErrorCode } from './errors.js';

const counterFields: Readonly<Record<Message['type'], readonly string[]>> = {
  preVote: ['lastIndex', 'lastTerm'],
  preVoteResponse: [],
  vote: ['lastIndex', 'lastTerm'],
  voteResponse: [],
  append: ['prevIndex', 'prevTerm', 'commit'],
  appendResponse: ['index', 'hintIndex', 'hintTerm'],
  heartbeat: ['commit'],
  heartbeatResponse: [],
  installSnapshot: ['offset', 'totalBytes'],
  installSnapshotResponse: ['snapshotIndex', 'nextOffset'],
  timeoutNow: [],
};

function isCounter(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function fail(message: string): never {
  throw new RaftError(RaftErrorCode.BadMessage, message);
}

export function validateMessage(message: Message, selfId: string): void {
  const record = message as unknown as Record<string, unknown>;
  if (typeof record !== 'object' || record === null) fail('raft message is not an object');
  const type = record['type'];
  if (typeof type !== 'string' || !Object.hasOwn(counterFields, type)) fail(`unknown raft message type ${JSON.stringify(type)}`);
  if (record['to'] !== selfId) fail(`raft ${type} addressed to ${String(record['to'])}, not ${selfId}`);
  const from = record['from'];
  if (typeof from !== 'string' || from === '' || from === selfId) fail(`raft ${type} has a bad sender ${JSON.stringify(from)}`);
  if (!isCounter(record['term'])) fail(`raft ${type} from ${from} has a bad term`);
  for (const field of counterFields[type as Message['type']]) {
    if (!isCounter(record[field])) fail(`raft ${type} from ${from} has a bad ${field}`);
  }
  switch (message.type) {
    case 'append':
      validateEntries(message, from);
      break;
    case 'installSnapshot':
      if (!(message.data instanceof Uint8Array) || typeof message.done !== 'boolean') fail(`raft installSnapshot from ${from} has bad data`);
      if (!message.meta || !isCounter(message.meta.index) || !isCounter(message.meta.term)) fail(`raft installSnapshot from ${from} has bad meta`);
      if (!message.meta.config || !Array.isArray(message.meta.config.voters) || !Array.isArray(message.meta.config.nonVoters)) {
        fail(`raft installSnapshot from ${from} has a bad config`);
      }
      break;
    case 'preVoteResponse':
    case 'voteResponse':
    case 'appendResponse':
      if (typeof message.reject !== 'boolean') fail(`raft ${type} from ${from} has a bad reject flag`);
      break;
    case 'vote':
      if (typeof message.transfer !== 'boolean') fail(`raft vote from ${from} has a bad transfer flag`);
      break;
    default:
      break;
  }
}

function validateEntries(message: Extract<Message, { type: 'append' }>, from: string): void {
  if (!Array.isArray(message.entries)) fail(`raft append from ${from} has no entries list`);
  let expected = message.prevIndex + 1;
  for (const entry of message.entries) {
    if (typeof entry !== 'object' || entry === null || entry.index !== expected || !isCounter(entry.term)) {
      fail(`raft append from ${from} has a bad entry at ${expected}`);
    }
    if (entry.term > message.term || entry.term < message.prevTerm || !(entry.data instanceof Uint8Array)) {
      fail(`raft append from ${from} has a bad entry at ${expected}`);
    }
    if (entry.type !== 0 && entry.type !== 1 && entry.type !== 2) fail(`raft append from ${from} has an entry of unknown type`);
    expected++;
  }
}
