// Proves the conformance suite's recovery cases are themselves right, before a real persistent
// store depends on them: they run against a double that "reopens" by keeping the same MEMORY store
// alive across close/open on one directory and recovers from its live state.
import { storeConformance, type ConformanceOpen } from '../conformance/suite.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import { StoreErrorCode, type Channel, type RecoveredState, type Store, type StoreOptions } from '../../../src/store/types.js';
import { TstanError } from '../../../src/util/errors.js';
import type { ClientInfo, ServerInfo } from '../../../src/store/records.js';
import type { StoreLimits } from '../../../src/store/limits.js';

class ReopenableDouble implements Store {
  readonly type = 'MEMORY' as const;
  readonly capabilities = { persistent: true, asyncLookup: false };
  private closed = false;

  constructor(
    private readonly inner: MemoryStore,
    private readonly reopened: boolean,
  ) {}

  private check(): void {
    if (this.closed) throw new TstanError(StoreErrorCode.Closed, 'store is closed');
  }

  async recover(): Promise<RecoveredState | undefined> {
    this.check();
    if (!this.reopened) return undefined;
    return {
      info: this.inner.serverInfo()!,
      clients: this.inner.listClients(),
      channels: this.inner.channelNames().map((name) => {
        const channel = this.inner.lookupChannel(name)!;
        return { channel, subscriptions: channel.subs.list() };
      }),
    };
  }
  async init(info: ServerInfo): Promise<void> {
    this.check();
    await this.inner.init(info);
  }
  setLimits(limits: StoreLimits): void {
    this.inner.setLimits(limits);
  }
  channelLimits(channel: string) {
    return this.inner.channelLimits(channel);
  }
  getLimits(): StoreLimits {
    return this.inner.getLimits();
  }
  async addClient(info: ClientInfo): Promise<void> {
    this.check();
    await this.inner.addClient(info);
  }
  async deleteClient(id: string): Promise<boolean> {
    this.check();
    return this.inner.deleteClient(id);
  }
  async createChannel(name: string): Promise<Channel> {
    this.check();
    return this.inner.createChannel(name);
  }
  lookupChannel(name: string): Channel | undefined {
    this.check();
    return this.inner.lookupChannel(name);
  }
  channelNames(): string[] {
    return this.inner.channelNames();
  }
  async deleteChannel(name: string): Promise<boolean> {
    this.check();
    return this.inner.deleteChannel(name);
  }
  totals() {
    return this.inner.totals();
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Opens the double; the directory -> store map lives in this closure only. */
function doubleOpener(): ConformanceOpen {
  const disks = new Map<string, MemoryStore>();
  return async (dir: string, options: StoreOptions): Promise<Store> => {
    const existing = disks.get(dir);
    if (existing !== undefined) {
      existing.setLimits(options.limits);
      return new ReopenableDouble(existing, true);
    }
    const store = new MemoryStore(options);
    disks.set(dir, store);
    return new ReopenableDouble(store, false);
  };
}

storeConformance('self-check double', doubleOpener(), { persistent: true, groups: ['recovery', 'model'] });
