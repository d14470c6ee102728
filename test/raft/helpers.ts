// Small builders for unit tests of the core: a node over MemoryStorage with a given log, and a
// driver step that persists a Ready and returns what it would send.
import type { Entry } from '../../src/raft/types.js';
import type { Message } from '../../src/raft/messages.js';
import type { RaftOptions } from '../../src/raft/options.js';
import type { Ready } from '../../src/raft/node.js';
import { RaftNode } from '../../src/raft/node.js';
import { MemoryStorage } from '../../src/raft/storage.js';
import { EntryType } from '../../src/raft/types.js';
import { encodeConfig } from '../../src/raft/membership.js';
import { Rng } from './sim/rng.js';

export interface TestNodeSpec {
  readonly id?: string;
  readonly voters?: readonly string[];
  /** Terms of entries 2.. (entry 1 is the bootstrap configuration at term 1). */
  readonly terms?: readonly number[];
  readonly term?: number;
  readonly vote?: string;
  readonly commit?: number;
  readonly options?: Partial<RaftOptions>;
}

export function entry(index: number, term: number, data = `e${index}`): Entry {
  return { index, term, type: EntryType.Normal, data: new TextEncoder().encode(data) };
}

export function makeNode(spec: TestNodeSpec = {}): { node: RaftNode; storage: MemoryStorage } {
  const id = spec.id ?? 'n1';
  const voters = spec.voters ?? ['n1', 'n2', 'n3'];
  const storage = new MemoryStorage();
  const entries: Entry[] = [{ index: 1, term: 1, type: EntryType.ConfigChange, data: encodeConfig({ voters, nonVoters: [] }) }];
  (spec.terms ?? []).forEach((term, i) => entries.push(entry(i + 2, term)));
  storage.append(entries);
  storage.setHardState({ term: spec.term ?? 1, vote: spec.vote ?? '', commit: spec.commit ?? 1 });
  const node = new RaftNode({ id, storage, random: new Rng(7), preVote: false, ...spec.options });
  return { node, storage };
}

/** Carry out every Ready: persist to storage, collect messages and applied entries. */
export function drain(node: RaftNode, storage: MemoryStorage): { messages: Message[]; applied: Entry[]; readies: Ready[] } {
  const messages: Message[] = [];
  const applied: Entry[] = [];
  const readies: Ready[] = [];
  while (node.hasReady()) {
    const ready = node.ready();
    readies.push(ready);
    if (ready.snapshot) storage.applySnapshot(ready.snapshot);
    storage.append(ready.entries);
    if (ready.hardState) storage.setHardState(ready.hardState);
    messages.push(...ready.messages, ...ready.messagesAfterPersist);
    applied.push(...ready.committedEntries);
    node.advance();
  }
  return { messages, applied, readies };
}

/** Make `node` (n1) leader of a fresh three-node cluster at term 2 with votes from n2 and n3. */
export function electLeader(spec: TestNodeSpec = {}): { node: RaftNode; storage: MemoryStorage } {
  const made = makeNode(spec);
  made.node.campaign();
  drain(made.node, made.storage);
  const term = made.node.term;
  for (const from of ['n2', 'n3']) made.node.step({ type: 'voteResponse', from, to: 'n1', term, reject: false });
  drain(made.node, made.storage);
  return made;
}

export function ofType<T extends Message['type']>(messages: readonly Message[], type: T): Extract<Message, { type: T }>[] {
  return messages.filter((m): m is Extract<Message, { type: T }> => m.type === type);
}
