// Shared scaffolding for the store conformance suite: a temporary directory per test, a clock the
// test moves by hand, and open/reopen helpers that close every store they opened.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { silentLogger } from '../../../src/util/logger.js';
import { defaultStoreLimits, type StoreLimits } from '../../../src/store/limits.js';
import { emptyMsgProto, emptyServerInfo, emptySubState, msgProtoSize, type MsgProto, type ServerInfo, type SubState } from '../../../src/store/records.js';
import type { LimitReason, RecoveredState, Store, StoreOptions } from '../../../src/store/types.js';

/** Opens the store under test on `dir`; called again with the same `dir` to reopen it. */
export type ConformanceOpen = (dir: string, options: StoreOptions) => Promise<Store>;

export const BASE_TIME_NS = 1_700_000_000_000_000_000n;

export class FakeClock {
  now = BASE_TIME_NS;
  nowNs(): bigint {
    return this.now;
  }
  advanceMs(ms: number): void {
    this.now += BigInt(ms) * 1_000_000n;
  }
}

export interface LimitEvent {
  channel: string;
  reason: LimitReason;
}

export class Harness {
  readonly clock = new FakeClock();
  readonly limitEvents: LimitEvent[] = [];
  private dir = '';
  private readonly open: Store[] = [];
  limits: StoreLimits = defaultStoreLimits();

  constructor(
    private readonly openStore: ConformanceOpen,
    /** What a message counts for in byte accounting (an encrypting store counts the sealed size). */
    readonly storedSize: (m: MsgProto) => number = msgProtoSize,
  ) {}

  async setUp(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'tstan-conformance-'));
  }

  async tearDown(): Promise<void> {
    for (const store of this.open.splice(0)) await store.close().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }

  options(): StoreOptions {
    return {
      limits: this.limits,
      clock: this.clock,
      logger: silentLogger(),
      onLimitReached: (channel, reason) => this.limitEvents.push({ channel, reason }),
    };
  }

  /** Opens a fresh store and initialises it (nothing to recover in a new directory). */
  async fresh(limits?: StoreLimits): Promise<Store> {
    if (limits !== undefined) this.limits = limits;
    const store = await this.openStore(this.dir, this.options());
    this.open.push(store);
    expect(await store.recover()).toBeUndefined();
    await store.init(serverInfo('cluster-a'));
    return store;
  }

  /** Closes `store` and opens the same directory again, returning what it recovered. */
  async reopen(store: Store): Promise<{ store: Store; recovered: RecoveredState | undefined }> {
    await store.close();
    const next = await this.openStore(this.dir, this.options());
    this.open.push(next);
    const recovered = await next.recover();
    return { store: next, recovered };
  }
}

export function serverInfo(clusterId = 'test-cluster'): ServerInfo {
  return {
    ...emptyServerInfo(),
    clusterId,
    discovery: `_STAN.discover.${clusterId}`,
    publish: `_STAN.pub.${clusterId}`,
    subscribe: `_STAN.sub.${clusterId}`,
    unsubscribe: `_STAN.unsub.${clusterId}`,
    close: `_STAN.close.${clusterId}`,
    subClose: `_STAN.subclose.${clusterId}`,
    acksSubs: `_STAN.ack.${clusterId}`,
  };
}

/** A message to store: sequence 0 (assigned by the store) unless given. */
export function msg(channel: string, payload: string, timestamp: bigint, sequence = 0): MsgProto {
  return { ...emptyMsgProto(), sequence, subject: channel, data: Buffer.from(payload), timestamp };
}

export function sub(fields: Partial<SubState> = {}): SubState {
  return {
    ...emptySubState(),
    clientId: 'client-1',
    inbox: '_INBOX.deliver',
    ackInbox: '_INBOX.ack',
    maxInFlight: 1024,
    ackWaitInSecs: 30,
    ...fields,
  };
}

/** Matches an error by its stable code (typed as Error so `toThrow` accepts it). */
export function expectCode(code: string): Error {
  return expect.objectContaining({ code }) as Error;
}

/** Comparable view of a stored message (Buffer vs Uint8Array does not matter). */
export function view(m: MsgProto | undefined): unknown {
  if (m === undefined) return undefined;
  return { ...m, data: Buffer.from(m.data).toString('hex') };
}
