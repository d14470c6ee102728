// The streaming state machine as Raft's application: committed entries are batches of ops (the
// codec of src/fsm) applied in log order, each giving its ops' results to the proposer. The
// message store is written without fsync (the Raft log is the write-ahead log) and made durable
// only before a snapshot covers, or a compaction drops, what it holds. A snapshot holds no
// payloads: restoring one keeps what the store holds and fetches what it lacks from peers,
// retrying until they supply it — the node keeps its state meanwhile and says what it waits for.
// (At start-up the store normally holds all its own snapshot covers: it was synced first.)
import type { Logger } from '../util/logger.js';
import type { Entry } from '../raft/types.js';
import type { RaftStateMachine } from '../raft/driver.js';
import { EntryType } from '../raft/types.js';
import type { StanFsm } from '../fsm/stan-fsm.js';
import { applyEncodedOps } from '../fsm/codec.js';
import type { OpResult } from '../fsm/ops.js';
import type { ReplicatedClock } from '../fsm/context.js';
import { encodeSnapshot, restoreSnapshot } from '../fsm/snapshot.js';
import type { FetchClient } from './fetch.js';

export interface FsmMachineStatus {
  /** What the node waits for, when it cannot serve or apply yet ('' when nothing). */
  readonly waiting: string;
  readonly snapshotsRestored: number;
  readonly messagesFetched: number;
}

export class FsmStateMachine implements RaftStateMachine<readonly OpResult[] | undefined> {
  private failure: Error | undefined;
  private waiting = '';
  private snapshotsRestored = 0;
  private messagesFetched = 0;

  constructor(
    private readonly fsm: StanFsm,
    private readonly clock: ReplicatedClock,
    private readonly fetcher: FetchClient,
    private readonly logger: Logger,
    /** Told once when the store fails (a write did not land): the owner stops the node at once. */
    private readonly onFailure: (error: Error) => void = () => undefined,
  ) {}

  status(): FsmMachineStatus {
    return { waiting: this.waiting, snapshotsRestored: this.snapshotsRestored, messagesFetched: this.messagesFetched };
  }

  /** One result per entry: the ops' results for application entries, undefined for the others. */
  async apply(entries: readonly Entry[]): Promise<Array<readonly OpResult[] | undefined>> {
    if (this.failure !== undefined) throw this.failure;
    const results: Array<readonly OpResult[] | undefined> = [];
    for (const entry of entries) {
      if (entry.type !== EntryType.Normal) {
        results.push(undefined);
        continue;
      }
      const applied = applyEncodedOps(this.fsm, entry.data);
      const outcome = applied instanceof Promise ? await applied : applied;
      // Not waited for: the store is made durable before the log drops what it holds (sync()).
      outcome.durable.catch((error: unknown) => this.fail(error));
      results.push(outcome.results);
    }
    return results;
  }

  /**
   * The store failed: nothing more is applied, and the owner hears of it now rather than at the
   * next entry (a node must not go on serving, acknowledging or voting over a store that lost a
   * write). The owner reports it; a second failure adds nothing.
   */
  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error instanceof Error ? error : new Error(String(error));
    this.logger.debug({ err: error }, 'the message store failed: this node stops applying');
    this.onFailure(this.failure);
  }

  /** Every effect of the entries applied so far (the driver asks through `index`) is fsynced in the store. */
  async sync(_index?: number): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    await this.fsm.sync();
  }

  async snapshot(): Promise<Uint8Array> {
    await this.sync();
    return encodeSnapshot(this.fsm.state);
  }

  async restore(data: Uint8Array): Promise<void> {
    this.waiting = 'restoring a snapshot';
    const { state } = await restoreSnapshot(this.fsm.store, this.clock, data, async (channel, channelId, from, to) => {
      this.waiting = `fetching messages ${from}..${to} of channel ${channel} from peers`;
      this.logger.info({ channel, from, to }, 'fetching the messages a snapshot needs from peers');
      const msgs = await this.fetcher.fetch(channel, channelId, from, to);
      this.messagesFetched += msgs.length;
      return msgs;
    });
    this.fsm.replaceState(state);
    this.snapshotsRestored++;
    this.waiting = '';
  }
}
