// The core's RaftStorage backed by the LevelDB log store and the file snapshot store: what the
// driver persists from each Ready, and what the core reads back synchronously. One directory
// per node: `log/` (LevelDB), `snapshots/`, the sync watermark `synced` and, while the node must
// catch up before it votes, the marker `catching-up` (loss-guard.ts).

import { join } from 'node:path';
import type { Logger } from '../../util/logger.js';
import { silentLogger } from '../../util/logger.js';
import { StoreCorruptError } from '../../util/errors.js';
import { assert } from '../../util/assert.js';
import { EntryType, type Entry, type HardState } from '../../raft/types.js';
import type { ClusterConfig, Snapshot } from '../../raft/messages.js';
import type { DurableStorage, PersistRequest, RaftInitialState } from '../../raft/storage.js';
import { encodeConfig } from '../../raft/membership.js';
import { LevelRaftStore, type RaftStoreStats } from './level-raft-store.js';
import { FileSnapshotStore } from './snapshot-store.js';
import type { DurabilityReporter } from '../durability.js';
import { CatchUpMarker } from './loss-guard.js';
import type { EncryptionSettings } from '../crypto/payload-cipher.js';

export interface DurableRaftStorageOptions {
  /** fsync the log on every Ready that needs it (`cluster_sync`, default true). */
  readonly sync?: boolean;
  /** Snapshots kept (`cluster_log_snapshots`, default 2). */
  readonly snapshotsRetained?: number;
  readonly openCheckEntries?: number;
  readonly logger?: Logger;
  /** Test hook: told of every completed fsync and rename (src/store/durability.ts). */
  readonly durability?: DurabilityReporter;
  /** Encryption at rest: the log's Normal entries (streaming operations, payloads included) are sealed. */
  readonly encryption?: EncryptionSettings;
}

export class DurableRaftStorage implements DurableStorage {
  readonly log: LevelRaftStore;
  private readonly snapshots: FileSnapshotStore<ClusterConfig>;
  private latest: Snapshot | undefined;
  private snapshotSyncs = 0;
  private readonly marker: CatchUpMarker;

  private constructor(log: LevelRaftStore, snapshots: FileSnapshotStore<ClusterConfig>, latest: Snapshot | undefined, marker: CatchUpMarker) {
    this.log = log;
    this.snapshots = snapshots;
    this.latest = latest;
    this.marker = marker;
  }

  static async open(directory: string, options: DurableRaftStorageOptions = {}): Promise<DurableRaftStorage> {
    const logger = options.logger ?? silentLogger();
    const snapshots = await FileSnapshotStore.open<ClusterConfig>(join(directory, 'snapshots'), {
      retain: options.snapshotsRetained ?? 2,
      logger,
      ...(options.durability !== undefined ? { durability: options.durability } : {}),
    });
    const latestFile = await snapshots.latest();
    const latest = latestFile && {
      meta: { index: latestFile.meta.index, term: latestFile.meta.term, config: latestFile.meta.membership },
      data: latestFile.data,
    };
    const log = await LevelRaftStore.open(join(directory, 'log'), {
      sync: options.sync ?? true,
      watermarkPath: join(directory, 'synced'),
      ...(options.durability !== undefined ? { durability: options.durability } : {}),
      ...(options.openCheckEntries !== undefined ? { openCheckEntries: options.openCheckEntries } : {}),
      ...(options.encryption !== undefined ? { encryption: options.encryption } : {}),
    });
    const marker = new CatchUpMarker(join(directory, 'catching-up'), options.durability);
    try {
      if (log.losses.length > 0) {
        logger.warn({ losses: log.losses }, 'the Raft log lost state it had synced: this node catches up from the leader before it votes again');
        // The marker first: once the watermark is reset, it alone remembers the loss.
        await marker.set(log.losses.join('; '));
        await log.resetWatermark();
      }
      await reconcile(log, latest, directory);
    } catch (error) {
      await log.close();
      throw error;
    }
    return new DurableRaftStorage(log, snapshots, latest, marker);
  }

  catchUpReason(): string | undefined {
    return this.marker.read();
  }

  holdCatchUpGate(reason: string): Promise<void> {
    return this.marker.read() === undefined ? this.marker.set(reason) : Promise.resolve();
  }

  releaseCatchUpGate(): Promise<void> {
    return this.marker.clear();
  }

  /** Writes the first configuration into an empty log (every founding voter does the same). */
  async bootstrap(config: ClusterConfig): Promise<boolean> {
    if (this.log.lastIndex() > 0 || this.latest !== undefined) return false;
    const entry: Entry = { index: 1, term: 1, type: EntryType.ConfigChange, data: encodeConfig(config) };
    await this.log.write({ entries: [entry], hardState: { term: 1, vote: '', commit: 0 } });
    return true;
  }

  initialState(): RaftInitialState {
    const hardState = this.log.hardState();
    return this.latest === undefined ? { hardState } : { hardState, snapshotMeta: this.latest.meta };
  }

  firstIndex(): number {
    return this.log.firstIndex();
  }

  lastIndex(): number {
    return this.log.lastIndex();
  }

  term(index: number): number | undefined {
    if (index === 0) return 0;
    if (this.latest !== undefined && index === this.latest.meta.index) return this.latest.meta.term;
    if (index < this.log.firstIndex() - 1 || index > this.log.lastIndex()) return undefined;
    return this.log.term(index);
  }

  entries(low: number, high: number, bytesMax: number): Entry[] {
    return this.log.entries(low, high, bytesMax);
  }

  snapshot(): Snapshot | undefined {
    return this.latest;
  }

  /**
   * Persists a Ready: a received snapshot first (its own file, fsynced), then snapshot point,
   * entries and hard state in one LevelDB batch with one sync.
   */
  async persist(request: PersistRequest): Promise<void> {
    const snapshot = request.snapshot;
    if (snapshot !== undefined) await this.saveSnapshot(snapshot);
    const hasLogWork = snapshot !== undefined || request.entries.length > 0 || request.hardState !== undefined;
    if (!hasLogWork) return;
    await this.log.write(
      {
        ...(snapshot !== undefined
          ? { snapshotPoint: { index: snapshot.meta.index, term: snapshot.meta.term }, replaceLog: true }
          : {}),
        entries: request.entries,
        ...(request.hardState !== undefined ? { hardState: request.hardState } : {}),
      },
      { sync: request.mustSync },
    );
  }

  /** Makes a snapshot durable (file written, fsynced, renamed) and serves it from now on. */
  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    const { index, term, config } = snapshot.meta;
    await this.snapshots.save({ index, term, membership: config }, snapshot.data);
    this.snapshotSyncs++;
    if (this.latest === undefined || index >= this.latest.meta.index) this.latest = snapshot;
  }

  /** Deletes entries below `before`, never past the durable snapshot. */
  async compact(before: number): Promise<void> {
    const through = Math.min(before - 1, this.latest?.meta.index ?? 0, this.log.lastIndex());
    if (through >= this.log.firstIndex()) await this.log.compactPrefix(through);
  }

  stats(): RaftStoreStats & { readonly snapshotSyncs: number } {
    return { ...this.log.stats(), snapshotSyncs: this.snapshotSyncs };
  }

  async close(): Promise<void> {
    await this.log.close();
  }
}

/**
 * Brings the log in line with the newest intact snapshot after a crash: a snapshot received
 * from the leader is written to its file before the log is replaced, so a crash between the two
 * leaves a snapshot ahead of a log that disagrees with it.
 */
async function reconcile(log: LevelRaftStore, latest: Snapshot | undefined, directory: string): Promise<void> {
  const point = log.snapshotPoint();
  const latestIndex = latest?.meta.index ?? 0;
  if (point.index > latestIndex) {
    throw new StoreCorruptError(
      `${directory}: the raft log is compacted through ${point.index} but no intact snapshot reaches it ` +
        `(newest ${latestIndex}); the node cannot rebuild its state: remove its data directory to rejoin from the leader`,
    );
  }
  if (latest === undefined || latestIndex === point.index) return;
  const { index, term } = latest.meta;
  const agrees = index <= log.lastIndex() && index >= log.firstIndex() && log.term(index) === term;
  if (agrees) return;
  const hardState = log.hardState();
  assert(index > hardState.commit || index > log.lastIndex(), `${directory}: snapshot at ${index} contradicts the committed log`);
  await log.write({
    snapshotPoint: { index, term },
    replaceLog: true,
    hardState: {
      term: Math.max(hardState.term, term),
      vote: term > hardState.term ? '' : hardState.vote,
      commit: Math.max(hardState.commit, index),
    },
  });
}
