// One channel's subscriptions in memory: a copy of each SubState and its pending sequences.

import { TstanError } from '../../util/errors.js';
import type { ChannelLimits } from '../limits.js';
import type { SubState } from '../records.js';
import { StoreErrorCode, type RecoveredSubscription, type SubStore } from '../types.js';
import { SeqSet } from '../../util/seq-window.js';

interface SubEntry {
  sub: SubState;
  pending: SeqSet;
}

const STRING_FIELDS = ['clientId', 'qGroup', 'inbox', 'ackInbox', 'durableName'] as const;

export function checkSubState(sub: SubState): void {
  const ok =
    sub !== null &&
    typeof sub === 'object' &&
    Number.isSafeInteger(sub.id) &&
    sub.id >= 0 &&
    Number.isSafeInteger(sub.lastSent) &&
    sub.lastSent >= 0 &&
    Number.isInteger(sub.maxInFlight) &&
    Number.isInteger(sub.ackWaitInSecs) &&
    typeof sub.isDurable === 'boolean' &&
    typeof sub.isClosed === 'boolean' &&
    STRING_FIELDS.every((key) => typeof sub[key] === 'string');
  if (!ok) throw new TstanError(StoreErrorCode.RecordInvalid, 'invalid subscription state given to the store');
}

export class MemorySubStore implements SubStore {
  private readonly subs = new Map<number, SubEntry>();
  private lastId = 0;

  constructor(
    private readonly checkOpen: () => void,
    private readonly durable: Promise<void>,
    private limits: ChannelLimits,
  ) {}

  setLimits(limits: ChannelLimits): void {
    this.limits = limits;
  }

  createSub(sub: SubState): void {
    this.checkOpen();
    checkSubState(sub);
    const max = this.limits.maxSubscriptions;
    if (max > 0 && this.subs.size >= max) {
      throw new TstanError(StoreErrorCode.TooManySubs, 'too many subscriptions per channel');
    }
    if (sub.id !== 0 && this.subs.has(sub.id)) {
      throw new TstanError(StoreErrorCode.SubIdInUse, `subscription ID ${sub.id} is already in use`);
    }
    if (sub.id === 0) sub.id = this.lastId + 1;
    this.lastId = Math.max(this.lastId, sub.id);
    this.subs.set(sub.id, { sub: { ...sub }, pending: new SeqSet() });
  }

  updateSub(sub: SubState): void {
    this.checkOpen();
    checkSubState(sub);
    const entry = this.subs.get(sub.id);
    if (entry === undefined) throw new TstanError(StoreErrorCode.SubUnknown, `unknown subscription ID ${sub.id}`);
    entry.sub = { ...sub };
  }

  deleteSub(subId: number): boolean {
    this.checkOpen();
    return this.subs.delete(subId);
  }

  addSeqPending(subId: number, seq: number): void {
    this.checkOpen();
    if (!Number.isSafeInteger(seq) || seq <= 0) {
      throw new TstanError(StoreErrorCode.RecordInvalid, `invalid pending sequence ${seq}`);
    }
    const entry = this.subs.get(subId);
    if (entry === undefined) return;
    entry.pending.add(seq);
    if (seq > entry.sub.lastSent) entry.sub.lastSent = seq;
  }

  ackSeqPending(subId: number, seq: number): void {
    this.checkOpen();
    this.subs.get(subId)?.pending.delete(seq);
  }

  list(): RecoveredSubscription[] {
    this.checkOpen();
    const result: RecoveredSubscription[] = [];
    for (const entry of this.subs.values()) {
      result.push({ sub: { ...entry.sub }, pending: [...entry.pending] });
    }
    return result;
  }

  count(): number {
    return this.subs.size;
  }

  flush(): Promise<void> {
    return this.durable;
  }
}
