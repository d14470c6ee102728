// The FILE store: a data directory in the reference server's layout (docs/protocol.md §6) behind the
// Store interface. Recovery takes the directory lock, reads server.dat, clients.dat and every
// channel directory; a fresh or emptied store answers `undefined` and waits for init().
import { sumChannelStates } from '../totals.js';
import { posix } from 'node:path';
import { spawn } from 'node:child_process';
import { TstanError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import type { ClientInfo, ServerInfo } from '../records.js';
import { buildStoreLimits, isValidChannelName, limitsForChannel } from '../limits.js';
import {
  StoreErrorCode,
  StoreType,
  type Channel,
  type ChannelLimits,
  type MsgStoreState,
  type RecoveredChannel,
  type RecoveredState,
  type Store,
  type StoreCapabilities,
  type StoreLimits,
  type StoreOptions,
} from '../types.js';
import type { DirLock, FileIo } from './io.js';
import { NodeFileIo } from './node-io.js';
import { observed } from './append-file.js';
import { StoreLockedError } from './errors.js';
import { createCrc32, type Crc32 } from './crc32.js';
import { FileName, parseSliceName } from './format.js';
import { resolveFileStoreOptions, type FileStoreOptions } from './options.js';
import { ClientsFile, ServerFile } from './root-files.js';
import { FileSubStore } from './subs-file.js';
import { FileMsgStore, type MsgStoreContext } from './msg-store.js';
import { recoverSlice, type Slice } from './msg-slice.js';
import { MsgCacheBudget } from './msg-cache.js';
import type { TypedLogContext } from './typed-log.js';
import { corrupt } from './recover.js';

export interface FileStoreConfig extends StoreOptions {
  /** The data directory (`-dir`). */
  readonly dir: string;
  readonly file?: Partial<FileStoreOptions>;
  /** The disk; node:fs unless a test passes a simulated one. */
  readonly io?: FileIo;
}

interface FileChannel extends Channel {
  readonly msgs: FileMsgStore;
  readonly subs: FileSubStore;
  limits: ChannelLimits;
}

export class FileStore implements Store {
  readonly type = StoreType.File;
  readonly capabilities: StoreCapabilities = { persistent: true, asyncLookup: false };
  private readonly io: FileIo;
  private readonly root: string;
  private readonly options: FileStoreOptions;
  private readonly crc: Crc32;
  private readonly logger: Logger;
  private limits: StoreLimits;
  private readonly channels = new Map<string, FileChannel>();
  private lock: DirLock | undefined;
  private server: ServerFile | undefined;
  private clients: ClientsFile | undefined;
  private state: 'new' | 'open' | 'closed' = 'new';
  private rootDirSync: Promise<void> | undefined;
  private readonly cacheBudget: MsgCacheBudget;

  /** Whether channels cache the messages they store (until a wrapper takes that over). */
  private readonly writeCache = { on: true };

  takeWriteCache(): MsgCacheBudget {
    this.writeCache.on = false;
    return this.cacheBudget;
  }

  constructor(private readonly config: FileStoreConfig) {
    this.io = config.io ?? new NodeFileIo();
    this.root = posix.normalize(config.dir);
    this.options = resolveFileStoreOptions(config.file);
    this.crc = createCrc32(this.options.crcPoly);
    this.logger = config.logger.child({ component: 'file-store' });
    this.limits = buildStoreLimits(config.limits);
    this.cacheBudget = new MsgCacheBudget(this.options.cacheBytesMax);
  }

  private typedLogContext(): TypedLogContext {
    return { io: this.io, crc: this.crc, options: this.options, logger: this.logger, nowMs: () => Number(this.config.clock.nowNs() / 1_000_000n) };
  }

  async recover(): Promise<RecoveredState | undefined> {
    if (this.state !== 'new') throw new TstanError(StoreErrorCode.NotOpen, 'recover() called twice or after close()');
    this.io.mkdir(this.root);
    try {
      this.lock = this.io.lock(posix.join(this.root, FileName.lock));
    } catch (error) {
      if (error instanceof StoreLockedError) throw new TstanError(StoreErrorCode.Locked, error.message, { cause: error });
      throw error;
    }
    try {
      const context = this.typedLogContext();
      this.server = ServerFile.open(this.root, context);
      this.clients = new ClientsFile(this.root, context);
      this.state = 'open';
      const info = this.server.recovered;
      const names = this.channelDirectories();
      if (info === undefined) {
        // server.dat is only ever replaced by rename, so it lacks a record only in a store that
        // was never initialised: anything else in the directory means it was damaged.
        if (this.clients.clients.size > 0 || names.length > 0) {
          throw corrupt(posix.join(this.root, FileName.server), 0, 'no server record, yet the store holds clients or channels');
        }
        return undefined;
      }
      const channels: RecoveredChannel[] = [];
      for (const name of names) {
        const channel = this.openChannel(name, true);
        channels.push({ channel, subscriptions: channel.subs.list() });
      }
      return { info, clients: this.clients.list(), channels };
    } catch (error) {
      await this.closeQuietly();
      throw error;
    }
  }

  private channelDirectories(): string[] {
    const names: string[] = [];
    for (const entry of this.io.readdir(this.root)) {
      if (!entry.isDirectory) continue;
      // Dot-directories are never channels (a name's first token is never empty): a cluster
      // node keeps its Raft log in one.
      if (entry.name.startsWith('.')) continue;
      if (!isValidChannelName(entry.name, false)) {
        this.logger.warn({ dir: entry.name }, 'ignoring directory that is not a channel name');
        continue;
      }
      names.push(entry.name);
    }
    return names.sort();
  }

  private openChannel(name: string, recovering: boolean): FileChannel {
    const dir = posix.join(this.root, name);
    // A directory can exist without having been recovered (server.dat was empty): never
    // overwrite what it holds.
    const exists = this.io.exists(dir);
    if (!exists) {
      this.io.mkdir(dir);
      this.rootDirSync = observed(Promise.all([this.rootDirSync, this.io.syncDir(this.root)]).then(() => undefined));
    }
    const holder = { limits: limitsForChannel(this.limits, name) };
    const subs = new FileSubStore(
      posix.join(dir, FileName.subs),
      this.typedLogContext(),
      () => holder.limits.maxSubscriptions,
      this.rootDirSync,
    );
    const sliceContext = this.msgStoreContext(dir, name, () => holder.limits);
    const slices = recovering || exists ? this.recoverSlices(dir, sliceContext) : [];
    const msgs = new FileMsgStore(sliceContext, slices, this.rootDirSync);
    const channel: FileChannel = {
      name,
      msgs,
      subs,
      get limits() {
        return holder.limits;
      },
      set limits(value: ChannelLimits) {
        holder.limits = value;
      },
    };
    this.channels.set(name, channel);
    return channel;
  }

  private msgStoreContext(dir: string, name: string, limits: () => ChannelLimits): MsgStoreContext {
    return {
      io: this.io,
      crc: this.crc,
      checkCrc: this.options.crc,
      bufferBytes: this.options.bufferSizeBytes,
      logger: this.logger,
      truncateBadEof: this.options.truncateBadEof,
      dir,
      channel: name,
      options: this.options,
      limits,
      nowNs: () => this.config.clock.nowNs(),
      expireOnTimer: this.config.ageExpiry !== 'caller',
      onLimitReached: this.config.onLimitReached,
      discardSlice: (slice) => this.discardSlice(name, slice),
      cacheBudget: this.cacheBudget,
      writeCache: this.writeCache,
    };
  }

  private recoverSlices(dir: string, context: MsgStoreContext): Slice[] {
    const numbers = new Map<number, Set<'dat' | 'idx'>>();
    for (const entry of this.io.readdir(dir)) {
      const parsed = entry.isDirectory ? undefined : parseSliceName(entry.name);
      if (parsed === undefined) continue;
      const kinds = numbers.get(parsed.slice) ?? new Set();
      kinds.add(parsed.kind);
      numbers.set(parsed.slice, kinds);
    }
    const slices: Slice[] = [];
    for (const number of [...numbers.keys()].sort((a, b) => a - b)) {
      if (!numbers.get(number)!.has('dat')) {
        this.logger.warn({ dir, slice: number }, 'index file without data file; removing it');
        this.io.unlink(posix.join(dir, `msgs.${number}.idx`));
        continue;
      }
      const slice = recoverSlice(dir, number, context);
      const previous = slices[slices.length - 1];
      if (previous !== undefined && previous.count > 0 && slice.count > 0 && slice.firstSeq <= previous.lastSeq) {
        throw corrupt(slice.dat.path, 4, `slice starts at sequence ${slice.firstSeq}, not after ${previous.lastSeq}`);
      }
      slices.push(slice);
    }
    // Slices left empty by a crash (created, never made durable) would break the ordering of
    // the rest: keep one empty slice only when there is nothing else.
    const kept = slices.filter((slice, i) => slice.count > 0 || (i === slices.length - 1 && slices.every((s) => s.count === 0)));
    for (const slice of slices) {
      if (kept.includes(slice)) continue;
      this.logger.warn({ file: slice.dat.path }, 'removing empty slice');
      slice.close();
      this.io.unlink(slice.dat.path);
      this.io.unlink(slice.idx.path);
    }
    return kept;
  }

  private discardSlice(channel: string, slice: Slice): void {
    slice.close();
    const script = this.options.sliceArchiveScript;
    if (script === '') {
      this.io.unlink(slice.dat.path);
      this.io.unlink(slice.idx.path);
      return;
    }
    const datBak = `${slice.dat.path}.bak`;
    const idxBak = `${slice.idx.path}.bak`;
    try {
      this.io.rename(slice.dat.path, datBak);
      this.io.rename(slice.idx.path, idxBak);
    } catch (error) {
      this.logger.error({ err: error, slice: slice.dat.path }, 'could not rename slice for archiving');
      return;
    }
    const child = spawn(script, [channel, datBak, idxBak], { stdio: 'ignore', detached: false });
    child.on('error', (error) => this.logger.error({ err: error, script }, 'archive script failed to start'));
    child.on('exit', (code) => {
      if (code !== 0) this.logger.error({ script, code }, 'archive script failed');
    });
    child.unref();
  }

  async init(info: ServerInfo): Promise<void> {
    this.checkOpen();
    if (info === null || typeof info !== 'object') throw new TstanError(StoreErrorCode.RecordInvalid, 'invalid server information');
    await this.server!.write(info);
  }

  setLimits(limits: StoreLimits): void {
    this.limits = buildStoreLimits(limits);
    for (const channel of this.channels.values()) channel.limits = limitsForChannel(this.limits, channel.name);
  }

  channelLimits(channel: string): ChannelLimits {
    return limitsForChannel(this.limits, channel);
  }

  getLimits(): StoreLimits {
    return this.limits;
  }

  async addClient(info: ClientInfo): Promise<void> {
    this.checkOpen();
    await this.clients!.add(info);
  }

  async deleteClient(clientId: string): Promise<boolean> {
    this.checkOpen();
    return this.clients!.delete(clientId);
  }

  createChannel(name: string): Promise<Channel> {
    try {
      this.checkOpen();
      const existing = this.channels.get(name);
      if (existing !== undefined) return Promise.resolve(existing);
      if (!isValidChannelName(name, false)) {
        throw new TstanError(StoreErrorCode.ChannelInvalid, `invalid channel name ${JSON.stringify(name)}`);
      }
      const lower = name.toLowerCase();
      for (const other of this.channels.keys()) {
        if (other.toLowerCase() === lower) {
          throw new TstanError(
            StoreErrorCode.ChannelCaseConflict,
            `rejecting channel "${name}" because channel "${other}" alreay exists (different cases not allowed)`,
          );
        }
      }
      const max = this.limits.maxChannels;
      if (max > 0 && this.channels.size >= max) throw new TstanError(StoreErrorCode.TooManyChannels, 'too many channels');
      return Promise.resolve(this.openChannel(name, false));
    } catch (error) {
      if (error instanceof TstanError) return Promise.reject(error);
      // The disk refused (name too long for the file system, no space, permissions...).
      const reason = error instanceof Error ? error.message : String(error);
      return Promise.reject(new TstanError(StoreErrorCode.Io, `cannot create channel ${JSON.stringify(name)}: ${reason}`, { cause: error }));
    }
  }

  lookupChannel(name: string): Channel | undefined {
    return this.channels.get(name);
  }

  channelNames(): string[] {
    return [...this.channels.keys()];
  }

  async deleteChannel(name: string): Promise<boolean> {
    this.checkOpen();
    const channel = this.channels.get(name);
    if (channel === undefined) return false;
    this.channels.delete(name);
    await Promise.allSettled([channel.msgs.close()]);
    channel.subs.close();
    this.io.removeDir(posix.join(this.root, name));
    await this.io.syncDir(this.root);
    return true;
  }

  totals(): MsgStoreState {
    return sumChannelStates(this.channels.values());
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const failures: unknown[] = [];
    this.state = 'closed';
    for (const channel of this.channels.values()) {
      await channel.subs.flush().catch((error: unknown) => failures.push(error));
      await channel.msgs.close().catch((error: unknown) => failures.push(error));
      channel.subs.close();
    }
    await this.clients?.flush().catch((error: unknown) => failures.push(error));
    await this.closeQuietly();
    if (failures.length > 0) throw failures[0];
  }

  private async closeQuietly(): Promise<void> {
    this.state = 'closed';
    await this.rootDirSync?.catch(() => undefined);
    this.clients?.close();
    this.server?.close();
    this.channels.clear();
    this.lock?.release();
    this.lock = undefined;
  }

  private checkOpen(): void {
    if (this.state === 'closed') throw new TstanError(StoreErrorCode.Closed, 'store is closed');
    if (this.state === 'new') throw new TstanError(StoreErrorCode.NotOpen, 'call recover() first');
  }
}

/** Opens a FILE store on `dir` (the shape the conformance suite and the server use). */
export function openFileStore(config: FileStoreConfig): FileStore {
  return new FileStore(config);
}
