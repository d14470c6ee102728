// Raft snapshots as files. A snapshot is written under a temporary name, fsynced, renamed into
// place and the directory fsynced, so a crash leaves either the whole snapshot or none of it.
// The `retain` newest are kept (`cluster_log_snapshots`). Each file carries its metadata (index,
// term, membership) and a CRC-32C over metadata and data: a damaged snapshot is skipped for the
// next older one instead of being restored.
//
// File: magic 'TSNP' | version u8 | meta bytes u32 | data bytes u64 | crc32c u32 | meta | data

import { mkdir, open, readdir, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { pack, unpack } from 'msgpackr';
import type { Logger } from '../../util/logger.js';
import { silentLogger } from '../../util/logger.js';
import { StoreCorruptError, TstanError, ConfigError } from '../../util/errors.js';
import { crc32c } from './crc32c.js';
import type { DurabilityReporter } from '../durability.js';

export interface SnapshotMeta<M = unknown> {
  readonly index: number;
  readonly term: number;
  /** The cluster configuration as of `index`; whatever plain data the core gives. */
  readonly membership: M;
}

export interface Snapshot<M = unknown> {
  readonly meta: SnapshotMeta<M>;
  readonly data: Uint8Array;
}

/** Receives a snapshot's data in pieces (e.g. InstallSnapshot chunks); nothing is visible until commit. */
export interface SnapshotSink<M = unknown> {
  readonly meta: SnapshotMeta<M>;
  write(chunk: Uint8Array): Promise<void>;
  /** Makes the snapshot durable and visible, then prunes old ones. */
  commit(): Promise<SnapshotMeta<M>>;
  abort(): Promise<void>;
}

export interface SnapshotStoreOptions {
  /** How many snapshots to keep (`cluster_log_snapshots`, default 2). */
  readonly retain?: number;
  /** fsync files and the directory (default true). */
  readonly sync?: boolean;
  readonly logger?: Logger;
  /** Test hook: told of every completed fsync and rename (src/store/durability.ts). */
  readonly durability?: DurabilityReporter;
}

const MAGIC = Buffer.from('TSNP', 'ascii');
const FORMAT_VERSION = 1;
const HEADER_BYTES = 4 + 1 + 4 + 8 + 4;
const SUFFIX = '.snap';
const TEMPORARY_SUFFIX = '.tmp';
const NAME_PATTERN = /^snapshot-(\d{16})-(\d{16})\.snap$/;
const TWO_POW_32 = 0x1_0000_0000;

function fileName(index: number, term: number): string {
  return `snapshot-${String(index).padStart(16, '0')}-${String(term).padStart(16, '0')}${SUFFIX}`;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export class FileSnapshotStore<M = unknown> {
  private readonly directory: string;
  private readonly retain: number;
  private readonly sync: boolean;
  private readonly logger: Logger;
  private sequence = 0;
  /** @internal Read by the sinks. */
  readonly durability: DurabilityReporter | undefined;

  private constructor(directory: string, retain: number, sync: boolean, logger: Logger, durability: DurabilityReporter | undefined) {
    this.durability = durability;
    this.directory = directory;
    this.retain = retain;
    this.sync = sync;
    this.logger = logger;
  }

  /** Opens the directory (creating it) and removes temporary files a crash left behind. */
  static async open<M = unknown>(directory: string, options: SnapshotStoreOptions = {}): Promise<FileSnapshotStore<M>> {
    const retain = options.retain ?? 2;
    if (!Number.isSafeInteger(retain) || retain < 1) {
      throw new ConfigError(`cluster_log_snapshots must be an integer of at least 1, got ${String(retain)}`);
    }
    await mkdir(directory, { recursive: true });
    for (const name of await readdir(directory)) {
      if (name.endsWith(TEMPORARY_SUFFIX)) await rm(join(directory, name), { force: true });
    }
    const logger = (options.logger ?? silentLogger()).child({ component: 'snapshot-store' });
    return new FileSnapshotStore<M>(directory, retain, options.sync ?? true, logger, options.durability);
  }

  /** Snapshots present, newest first, by file name (not yet verified). */
  async list(): Promise<Array<{ index: number; term: number; file: string }>> {
    const found: Array<{ index: number; term: number; file: string }> = [];
    for (const name of await readdir(this.directory)) {
      const match = NAME_PATTERN.exec(name);
      if (match === null) continue;
      found.push({ index: Number(match[1]), term: Number(match[2]), file: join(this.directory, name) });
    }
    return found.sort((a, b) => b.index - a.index || b.term - a.term);
  }

  /** The newest snapshot that verifies; damaged ones are logged and skipped. */
  async latest(): Promise<Snapshot<M> | undefined> {
    for (const candidate of await this.list()) {
      try {
        return await this.readFile(candidate.file);
      } catch (error) {
        if (!(error instanceof StoreCorruptError)) throw error;
        this.logger.warn({ file: candidate.file, err: error }, 'skipping damaged snapshot');
      }
    }
    return undefined;
  }

  async save(meta: SnapshotMeta<M>, data: Uint8Array): Promise<SnapshotMeta<M>> {
    const sink = await this.create(meta);
    try {
      await sink.write(data);
    } catch (error) {
      await sink.abort();
      throw error;
    }
    return sink.commit();
  }

  async create(meta: SnapshotMeta<M>): Promise<SnapshotSink<M>> {
    if (!isCount(meta.index) || !isCount(meta.term)) {
      throw new TstanError('SNAPSHOT_INVALID', `snapshot index and term must be counts, got ${meta.index}/${meta.term}`);
    }
    const metaBytes = pack({ index: meta.index, term: meta.term, membership: meta.membership }) as Buffer;
    const final = join(this.directory, fileName(meta.index, meta.term));
    const temporary = `${final}.${process.pid}.${this.sequence++}${TEMPORARY_SUFFIX}`;
    const handle = await open(temporary, 'w');
    return new FileSink<M>(this, meta, metaBytes, handle, temporary, final);
  }

  /** @internal Called by a sink once its file is in place. */
  async afterCommit(): Promise<void> {
    if (this.sync) await fsyncDirectory(this.directory);
    const all = await this.list();
    for (const old of all.slice(this.retain)) await rm(old.file, { force: true });
  }

  get fsyncs(): boolean {
    return this.sync;
  }

  private async readFile(file: string): Promise<Snapshot<M>> {
    const bytes = await readFile(file);
    const fail = (why: string): never => {
      throw new StoreCorruptError(`${file}: snapshot is damaged: ${why}`);
    };
    if (bytes.length < HEADER_BYTES) fail(`file of ${bytes.length} bytes is too short`);
    if (!bytes.subarray(0, 4).equals(MAGIC)) fail('bad magic');
    if (bytes[4] !== FORMAT_VERSION) fail(`unknown version ${bytes[4]}`);
    const metaLength = bytes.readUInt32BE(5);
    const dataLength = bytes.readUInt32BE(9) * TWO_POW_32 + bytes.readUInt32BE(13);
    if (HEADER_BYTES + metaLength + dataLength !== bytes.length) fail('length does not match the header');
    const body = bytes.subarray(HEADER_BYTES);
    if (crc32c(body) !== bytes.readUInt32BE(17)) fail('checksum mismatch');
    let decoded: unknown;
    try {
      decoded = unpack(body.subarray(0, metaLength));
    } catch (error) {
      fail(`undecodable metadata (${String(error)})`);
    }
    const meta = decoded as Partial<SnapshotMeta<M>> | null;
    if (meta === null || typeof meta !== 'object' || !isCount(meta.index) || !isCount(meta.term)) {
      fail('metadata has a bad shape');
    }
    const checked = meta as SnapshotMeta<M>;
    return {
      meta: { index: checked.index, term: checked.term, membership: checked.membership },
      data: body.subarray(metaLength),
    };
  }
}

class FileSink<M> implements SnapshotSink<M> {
  readonly meta: SnapshotMeta<M>;
  private readonly store: FileSnapshotStore<M>;
  private readonly metaBytes: Buffer;
  private readonly handle: FileHandle;
  private readonly temporary: string;
  private readonly final: string;
  private crc: number;
  private dataLength = 0;
  private position: number;
  private done = false;

  constructor(
    store: FileSnapshotStore<M>,
    meta: SnapshotMeta<M>,
    metaBytes: Buffer,
    handle: FileHandle,
    temporary: string,
    final: string,
  ) {
    this.store = store;
    this.meta = meta;
    this.metaBytes = metaBytes;
    this.handle = handle;
    this.temporary = temporary;
    this.final = final;
    this.crc = crc32c(metaBytes);
    this.position = HEADER_BYTES + metaBytes.length;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.done) throw new TstanError('SNAPSHOT_CLOSED', 'snapshot sink already committed or aborted');
    await this.handle.write(chunk, 0, chunk.length, this.position);
    this.position += chunk.length;
    this.dataLength += chunk.length;
    this.crc = crc32c(chunk, this.crc);
  }

  async commit(): Promise<SnapshotMeta<M>> {
    if (this.done) throw new TstanError('SNAPSHOT_CLOSED', 'snapshot sink already committed or aborted');
    this.done = true;
    try {
      const header = Buffer.alloc(HEADER_BYTES);
      MAGIC.copy(header, 0);
      header[4] = FORMAT_VERSION;
      header.writeUInt32BE(this.metaBytes.length, 5);
      header.writeUInt32BE(Math.floor(this.dataLength / TWO_POW_32), 9);
      header.writeUInt32BE(this.dataLength >>> 0, 13);
      header.writeUInt32BE(this.crc, 17);
      await this.handle.write(header, 0, HEADER_BYTES, 0);
      await this.handle.write(this.metaBytes, 0, this.metaBytes.length, HEADER_BYTES);
      if (this.store.fsyncs) {
        await this.handle.sync();
        this.store.durability?.synced(this.temporary, this.position);
      }
      await this.handle.close();
      await rename(this.temporary, this.final);
      this.store.durability?.renamed(this.temporary, this.final);
    } catch (error) {
      await this.handle.close().catch(() => undefined);
      await rm(this.temporary, { force: true });
      throw error;
    }
    await this.store.afterCommit();
    return this.meta;
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.handle.close().catch(() => undefined);
    await rm(this.temporary, { force: true });
  }
}

async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
