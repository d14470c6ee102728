// The MEMORY store, tstan's default as in the reference server: everything lives in the process
// and nothing survives a restart, so every write is "durable" at once (one shared resolved
// Promise, no per-batch allocation).

import { sumChannelStates } from '../totals.js';
import { TstanError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import {
  buildStoreLimits,
  isValidChannelName,
  limitsForChannel,
  type ChannelLimits,
  type StoreLimits,
} from '../limits.js';
import type { ClientInfo, ServerInfo } from '../records.js';
import {
  StoreErrorCode,
  StoreType,
  type Channel,
  type MsgStoreState,
  type RecoveredState,
  type Store,
  type StoreCapabilities,
  type StoreOptions,
} from '../types.js';
import { MemoryMsgStore } from './memory-msg-store.js';
import { MemorySubStore } from './memory-sub-store.js';

interface MemoryChannel extends Channel {
  readonly msgs: MemoryMsgStore;
  readonly subs: MemorySubStore;
}

export function checkClientInfo(info: ClientInfo): void {
  const ok =
    info !== null &&
    typeof info === 'object' &&
    typeof info.id === 'string' &&
    info.id.length > 0 &&
    typeof info.hbInbox === 'string' &&
    info.connId instanceof Uint8Array &&
    Number.isInteger(info.protocol) &&
    Number.isInteger(info.pingInterval) &&
    Number.isInteger(info.pingMaxOut);
  if (!ok) throw new TstanError(StoreErrorCode.ClientInvalid, 'invalid client information given to the store');
}

export class MemoryStore implements Store {
  readonly type = StoreType.Memory;
  readonly capabilities: StoreCapabilities = { persistent: false, asyncLookup: false };

  private limits: StoreLimits;
  private info: ServerInfo | undefined;
  private readonly clients = new Map<string, ClientInfo>();
  private readonly channels = new Map<string, MemoryChannel>();
  /** Lower-cased name -> name, to reject channels that differ only in case. */
  private readonly namesByLowerCase = new Map<string, string>();
  private closed = false;
  private readonly durable = Promise.resolve();
  private readonly logger: Logger;
  private readonly checkOpen = (): void => {
    if (this.closed) throw new TstanError(StoreErrorCode.Closed, 'store is closed');
  };

  constructor(private readonly options: StoreOptions) {
    this.limits = buildStoreLimits(options.limits);
    this.logger = options.logger.child({ component: 'memory-store' });
  }

  recover(): Promise<RecoveredState | undefined> {
    return this.guard(() => undefined);
  }

  init(info: ServerInfo): Promise<void> {
    return this.guard(() => {
      this.info = { ...info };
    });
  }

  serverInfo(): ServerInfo | undefined {
    return this.info === undefined ? undefined : { ...this.info };
  }

  setLimits(limits: StoreLimits): void {
    this.checkOpen();
    this.limits = buildStoreLimits(limits);
    for (const channel of this.channels.values()) {
      const channelLimits = limitsForChannel(this.limits, channel.name);
      channel.msgs.setLimits(channelLimits);
      channel.subs.setLimits(channelLimits);
    }
  }

  channelLimits(channel: string): ChannelLimits {
    return { ...limitsForChannel(this.limits, channel) };
  }

  getLimits(): StoreLimits {
    return this.limits;
  }

  addClient(info: ClientInfo): Promise<void> {
    return this.guard(() => {
      checkClientInfo(info);
      this.clients.set(info.id, { ...info });
    });
  }

  deleteClient(clientId: string): Promise<boolean> {
    return this.guard(() => this.clients.delete(clientId));
  }

  /** The registered clients (what a persistent store would recover). */
  listClients(): ClientInfo[] {
    return [...this.clients.values()].map((c) => ({ ...c }));
  }

  createChannel(name: string): Promise<Channel> {
    return this.guard(() => this.createChannelSync(name));
  }

  private createChannelSync(name: string): Channel {
    const existing = this.channels.get(name);
    if (existing !== undefined) return existing;
    if (!isValidChannelName(name, false)) {
      throw new TstanError(StoreErrorCode.ChannelInvalid, `invalid channel name ${JSON.stringify(name)}`);
    }
    const sameLetters = this.namesByLowerCase.get(name.toLowerCase());
    if (sameLetters !== undefined) {
      throw new TstanError(
        StoreErrorCode.ChannelCaseConflict,
        `rejecting channel "${name}" because channel "${sameLetters}" alreay exists (different cases not allowed)`,
      );
    }
    if (this.limits.maxChannels > 0 && this.channels.size >= this.limits.maxChannels) {
      throw new TstanError(StoreErrorCode.TooManyChannels, 'too many channels');
    }
    const limits = limitsForChannel(this.limits, name);
    const msgs = new MemoryMsgStore(
      {
        channel: name,
        clock: this.options.clock,
        durable: this.durable,
        expireOnTimer: this.options.ageExpiry !== 'caller',
        onLimitReached: this.options.onLimitReached,
        checkOpen: this.checkOpen,
      },
      limits,
    );
    const channel: MemoryChannel = { name, msgs, subs: new MemorySubStore(this.checkOpen, this.durable, limits) };
    this.channels.set(name, channel);
    this.namesByLowerCase.set(name.toLowerCase(), name);
    this.logger.debug({ channel: name }, 'channel created');
    return channel;
  }

  lookupChannel(name: string): Channel | undefined {
    this.checkOpen();
    return this.channels.get(name);
  }

  channelNames(): string[] {
    return [...this.channels.keys()];
  }

  deleteChannel(name: string): Promise<boolean> {
    return this.guard(() => {
      const channel = this.channels.get(name);
      if (channel === undefined) return false;
      channel.msgs.stop();
      this.channels.delete(name);
      this.namesByLowerCase.delete(name.toLowerCase());
      return true;
    });
  }

  totals(): MsgStoreState {
    return sumChannelStates(this.channels.values());
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (const channel of this.channels.values()) channel.msgs.stop();
    }
    return this.durable;
  }

  /** Runs a synchronous step as a Promise: a throw becomes a rejection, never an escape. */
  private guard<T>(step: () => T): Promise<T> {
    try {
      this.checkOpen();
      return Promise.resolve(step());
    } catch (err) {
      return Promise.reject(err);
    }
  }
}

export function openMemoryStore(options: StoreOptions): Promise<Store> {
  try {
    return Promise.resolve(new MemoryStore(options));
  } catch (err) {
    return Promise.reject(err);
  }
}
