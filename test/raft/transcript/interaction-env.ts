// An interpreter for scripted Raft transcripts in the style of etcd's testdata/*.txt: each
// command drives in-memory nodes (real cores over MemoryStorage) and prints what happened, so a
// behaviour change shows up as a diff against the checked-in expected output.
import type { Message } from '../../../src/raft/messages.js';
import type { ConfigChange } from '../../../src/raft/membership.js';
import { RaftNode } from '../../../src/raft/node.js';
import { MemoryStorage } from '../../../src/raft/storage.js';
import { EntryType } from '../../../src/raft/types.js';
import { encodeConfig } from '../../../src/raft/membership.js';
import { Rng } from '../sim/rng.js';
import { describeEntry, describeMessage } from './format.js';

export interface Command {
  readonly name: string;
  readonly args: readonly string[];
  readonly keys: ReadonlyMap<string, string>;
}

interface EnvNode {
  readonly id: string;
  readonly storage: MemoryStorage;
  readonly raft: RaftNode;
  /** The options it was created with, to recreate it after a wiped disk. */
  readonly options: ConstructorParameters<typeof RaftNode>[0];
  role: string;
}

const encoder = new TextEncoder();

export class InteractionEnv {
  private readonly nodes = new Map<string, EnvNode>();
  private readonly queue: Message[] = [];
  private readonly isolated = new Set<string>();
  private out: string[] = [];

  run(command: Command): string {
    this.out = [];
    try {
      this.dispatch(command);
    } catch (error) {
      const code = (error as { code?: string }).code;
      this.out.push(`error: ${code ?? 'ERROR'} ${(error as Error).message}`);
    }
    return this.out.length > 0 ? this.out.join('\n') : 'ok';
  }

  private node(id: string | undefined): EnvNode {
    const node = id === undefined ? undefined : this.nodes.get(id);
    if (!node) throw new Error(`no node ${String(id)}`);
    return node;
  }

  private dispatch(c: Command): void {
    const [first, second, third] = c.args;
    switch (c.name) {
      case 'add-nodes':
        return this.addNodes(c);
      case 'campaign':
        this.node(first).raft.campaign();
        return this.processReady(this.node(first));
      case 'tick':
        for (let i = 0; i < Number(second ?? 1); i++) this.node(first).raft.tick();
        return this.processReady(this.node(first), c.keys.get('quiet') === 'true');
      case 'propose': {
        const index = this.node(first).raft.propose(encoder.encode(second ?? ''));
        this.out.push(`proposed at ${index}`);
        return this.processReady(this.node(first));
      }
      case 'propose-conf-change': {
        const change = { type: second, node: third } as ConfigChange;
        const index = this.node(first).raft.proposeConfigChange(change);
        this.out.push(`proposed ${second} ${third} at ${index}`);
        return this.processReady(this.node(first));
      }
      case 'transfer-leadership':
        this.node(first).raft.transferLeadership(second ?? '');
        return this.processReady(this.node(first));
      case 'isolate':
        this.isolated.add(this.node(first).id);
        return;
      case 'heal':
        this.isolated.clear();
        return;
      case 'stabilize':
        return this.stabilize(c.keys.get('quiet') === 'true');
      case 'deliver-msgs':
        return this.deliver(c.args.length > 0 ? new Set(c.args) : undefined, false);
      case 'compact':
        return this.compact(this.node(first), Number(second));
      case 'wipe':
        return this.wipe(this.node(first));
      case 'status':
        return this.status(c.args.length > 0 ? c.args : [...this.nodes.keys()]);
      case 'raft-log':
        return this.raftLog(this.node(first));
      default:
        throw new Error(`unknown command ${c.name}`);
    }
  }

  private addNodes(c: Command): void {
    const count = Number(c.args[0]);
    const voters = (c.keys.get('voters') ?? '').split(',').filter((id) => id !== '');
    const numeric = (key: string): number | undefined => (c.keys.has(key) ? Number(c.keys.get(key)) : undefined);
    const start = this.nodes.size + 1;
    for (let n = start; n < start + count; n++) {
      const id = `n${n}`;
      const storage = new MemoryStorage();
      if (voters.includes(id)) {
        storage.append([{ index: 1, term: 1, type: EntryType.ConfigChange, data: encodeConfig({ voters, nonVoters: [] }) }]);
        storage.setHardState({ term: 1, vote: '', commit: 1 });
      }
      const options = {
        id,
        storage,
        random: new Rng(n),
        preVote: c.keys.get('prevote') !== 'false',
        checkQuorum: c.keys.get('checkquorum') !== 'false',
        ...(numeric('trailing') !== undefined ? { trailingLogs: numeric('trailing')! } : {}),
        ...(numeric('chunk') !== undefined ? { snapshotChunkBytes: numeric('chunk')! } : {}),
        ...(numeric('batch') !== undefined ? { appendEntriesMax: numeric('batch')! } : {}),
        ...(numeric('inflight') !== undefined ? { inflightMessagesMax: numeric('inflight')! } : {}),
        ...(c.keys.get('promote') === 'true' ? { promoteNonVoters: true } : {}),
        ...(numeric('lag') !== undefined ? { promotionLagEntriesMax: numeric('lag')! } : {}),
      };
      this.nodes.set(id, { id, storage, options, raft: new RaftNode(options), role: 'follower' });
    }
    this.status([...this.nodes.keys()].slice(start - 1));
  }

  /** Persist, send and apply one Ready of `node`, printing what it did. */
  private processReady(node: EnvNode, quiet = false): void {
    while (node.raft.hasReady()) {
      const ready = node.raft.ready();
      if (ready.softState && ready.softState.role !== node.role) {
        node.role = ready.softState.role;
        this.out.push(`${node.id} is ${ready.softState.role} at term ${node.raft.term}`);
      }
      if (ready.snapshot) {
        node.storage.applySnapshot(ready.snapshot);
        this.out.push(`${node.id} installed snapshot ${ready.snapshot.meta.index}/${ready.snapshot.meta.term}`);
      }
      node.storage.append(ready.entries);
      if (ready.hardState) node.storage.setHardState(ready.hardState);
      if (ready.compactBefore !== undefined) {
        node.storage.compact(ready.compactBefore);
        this.out.push(`${node.id} compacted log below ${ready.compactBefore}`);
      }
      for (const message of [...ready.messages, ...ready.messagesAfterPersist]) {
        const cut = this.isolated.has(message.from) || this.isolated.has(message.to);
        if (!cut) this.queue.push(message);
        if (!quiet) this.out.push(`${cut ? 'dropped ' : ''}${describeMessage(message)}`);
      }
      for (const entry of ready.committedEntries) {
        if (!quiet) this.out.push(`${node.id} applied ${describeEntry(entry)}`);
      }
      node.raft.advance();
    }
  }

  /** Deliver queued messages (to `targets` only, if given); returns whether any moved. */
  private deliver(targets: Set<string> | undefined, quiet: boolean): void {
    const pending = this.queue.splice(0);
    for (const message of pending) {
      if (targets && !targets.has(message.to)) {
        this.queue.push(message);
        continue;
      }
      if (this.isolated.has(message.from) || this.isolated.has(message.to)) {
        if (!quiet) this.out.push(`dropped ${describeMessage(message)}`);
        continue;
      }
      const node = this.node(message.to);
      node.raft.step(message);
      this.processReady(node, quiet);
    }
  }

  private stabilize(quiet: boolean): void {
    for (let round = 0; round < 1000; round++) {
      for (const node of this.nodes.values()) this.processReady(node, quiet);
      if (this.queue.length === 0) return;
      this.deliver(undefined, quiet);
    }
    throw new Error('stabilize did not settle in 1000 rounds');
  }

  /** The application snapshots its state at `index` and the core compacts the log. */
  private compact(node: EnvNode, index: number): void {
    const meta = node.raft.snapshotMetaAt(index);
    node.storage.setSnapshot({ meta, data: encoder.encode(`state-at-${index}:${'#'.repeat(150)}`) });
    node.raft.snapshotTaken(meta);
    this.processReady(node);
    this.out.push(`${node.id} snapshot at ${index}; log now ${node.raft.status().firstIndex}..${node.raft.status().lastIndex}`);
  }

  /** The node's disk is replaced by an empty one; it restarts in rejoin mode. */
  private wipe(node: EnvNode): void {
    const storage = new MemoryStorage();
    const options = { ...node.options, storage, rejoining: true };
    this.nodes.set(node.id, { id: node.id, storage, options, raft: new RaftNode(options), role: 'follower' });
    this.status([node.id]);
  }

  private status(ids: readonly string[]): void {
    for (const id of ids) {
      const s = this.node(id).raft.status();
      const config = `voters=(${s.config.voters.join(',')})${s.config.nonVoters.length > 0 ? ` nonvoters=(${s.config.nonVoters.join(',')})` : ''}`;
      const gate = s.catchingUp ? ' catching-up' : '';
      this.out.push(`${id}: ${s.role} term=${s.term} vote=${s.vote || '-'} lead=${s.leader || '-'} commit=${s.commit} applied=${s.applied} log=${s.firstIndex}..${s.lastIndex} ${config}${gate}`);
    }
  }

  private raftLog(node: EnvNode): void {
    const s = node.raft.status();
    const entries = node.raft.entriesBetween(s.firstIndex, s.lastIndex + 1) ?? [];
    if (entries.length === 0) this.out.push('(empty)');
    for (const entry of entries) this.out.push(describeEntry(entry));
  }
}

export interface TranscriptCase {
  /** Comment lines before the command, kept when the file is rewritten. */
  readonly preamble: readonly string[];
  readonly command: string;
  readonly parsed: Command;
  readonly expected: string;
  readonly line: number;
}

/** Parse a datadriven file: `command args key=value` lines, `----`, expected output, blank line. */
export function parseTranscript(text: string): TranscriptCase[] {
  const lines = text.split('\n');
  const cases: TranscriptCase[] = [];
  let preamble: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) {
      if (line.startsWith('#')) preamble.push(line);
      i++;
      continue;
    }
    const start = i + 1;
    const command = line.trim();
    i++;
    if (lines[i] !== '----') throw new Error(`line ${i + 1}: expected ---- after "${command}"`);
    i++;
    const expected: string[] = [];
    while (i < lines.length && lines[i] !== '') expected.push(lines[i++]!);
    cases.push({ preamble, command, parsed: parseCommand(command), expected: expected.join('\n'), line: start });
    preamble = [];
  }
  return cases;
}

function parseCommand(text: string): Command {
  const [name = '', ...rest] = text.split(/\s+/);
  const args: string[] = [];
  const keys = new Map<string, string>();
  for (const token of rest) {
    const eq = token.indexOf('=');
    if (eq > 0) keys.set(token.slice(0, eq), token.slice(eq + 1));
    else args.push(token);
  }
  return { name, args, keys };
}

export function renderTranscript(cases: readonly TranscriptCase[], outputs: readonly string[]): string {
  const blocks = cases.map((c, i) => [...c.preamble, c.command, '----', outputs[i]!, ''].join('\n'));
  return blocks.join('\n');
}
