// A channel's subscriptions in subs.dat: new/update records carry the whole SubState, delete
// carries the ID, and sent (5) / ack (4) records carry one sequence each. Replaying them rebuilds
// each subscription with its pending set; a sent record also advances lastSent, as in the
// reference. Deletes and acks count as fragmentation for compaction.
import { TstanError } from '../../util/errors.js';
import {
  decodeSubState,
  decodeSubStateDelete,
  decodeSubStateUpdate,
  encodeSubState,
  encodeSubStateDelete,
  RecordInvalidError,
  type SubState,
} from '../records.js';
import { StoreErrorCode, type RecoveredSubscription, type SubStore } from '../types.js';
import { SubRecord } from './format.js';
import { checkSubState } from '../memory/memory-sub-store.js';
import { TypedLog, type IdSeqRecord, type TypedLogContext, type TypedRecord } from './typed-log.js';
import { SeqSet } from '../../util/seq-window.js';

const SUB_TYPES: ReadonlySet<number> = new Set(Object.values(SubRecord));

interface StoredSub {
  state: SubState;
  pending: SeqSet;
}

export class FileSubStore implements SubStore {
  private readonly subs = new Map<number, StoredSub>();
  private maxSubId = 0;
  private closed = false;
  private readonly log: TypedLog;
  /** Sum of the pending sets' sizes, kept as they change: compaction checks it on every ack. */
  private pendingTotal = 0;

  constructor(
    path: string,
    context: TypedLogContext,
    private readonly maxSubscriptions: () => number,
    parentDirSync?: Promise<void>,
  ) {
    this.log = TypedLog.open(path, SUB_TYPES, context, (type, payload) => this.replay(type, payload), parentDirSync);
    for (const sub of this.subs.values()) this.pendingTotal += sub.pending.size;
  }

  private replay(type: number, payload: Buffer): string | undefined {
    try {
      switch (type) {
        case SubRecord.create:
        case SubRecord.update: {
          const state = decodeSubState(payload);
          const existing = this.subs.get(state.id);
          if (existing !== undefined) existing.state = state;
          else this.subs.set(state.id, { state, pending: new SeqSet() });
          this.maxSubId = Math.max(this.maxSubId, state.id);
          return undefined;
        }
        case SubRecord.delete: {
          this.subs.delete(decodeSubStateDelete(payload).id);
          return undefined;
        }
        case SubRecord.sent: {
          const { id, seqno } = decodeSubStateUpdate(payload);
          const sub = this.subs.get(id);
          if (sub !== undefined) {
            sub.pending.add(seqno);
            if (seqno > sub.state.lastSent) sub.state.lastSent = seqno;
          }
          return undefined;
        }
        case SubRecord.ack: {
          const { id, seqno } = decodeSubStateUpdate(payload);
          this.subs.get(id)?.pending.delete(seqno);
          return undefined;
        }
        default:
          return `unknown subscription record type ${type}`;
      }
    } catch (error) {
      if (error instanceof RecordInvalidError) return error.message;
      throw error;
    }
  }

  createSub(sub: SubState): void {
    this.checkOpen();
    checkSubState(sub);
    const max = this.maxSubscriptions();
    if (max > 0 && this.subs.size >= max) {
      throw new TstanError(StoreErrorCode.TooManySubs, 'too many subscriptions per channel');
    }
    if (sub.id !== 0 && this.subs.has(sub.id)) {
      throw new TstanError(StoreErrorCode.SubIdInUse, `subscription ID ${sub.id} is in use`);
    }
    const id = sub.id === 0 ? this.maxSubId + 1 : sub.id;
    const state = { ...sub, id };
    const payload = this.encode(state);
    sub.id = id;
    this.maxSubId = Math.max(this.maxSubId, id);
    this.subs.set(id, { state, pending: new SeqSet() });
    this.log.append(SubRecord.create, payload);
  }

  updateSub(sub: SubState): void {
    this.checkOpen();
    checkSubState(sub);
    const stored = this.subs.get(sub.id);
    if (stored === undefined) throw new TstanError(StoreErrorCode.SubUnknown, `unknown subscription ${sub.id}`);
    const state = { ...sub };
    const payload = this.encode(state);
    stored.state = state;
    this.log.append(SubRecord.update, payload);
  }

  deleteSub(subId: number): boolean {
    this.checkOpen();
    const stored = this.subs.get(subId);
    if (stored === undefined) return false;
    this.subs.delete(subId);
    this.pendingTotal -= stored.pending.size;
    this.log.append(SubRecord.delete, encodeSubStateDelete({ id: subId }));
    this.maybeCompact();
    return true;
  }

  addSeqPending(subId: number, seq: number): void {
    this.checkOpen();
    if (!Number.isSafeInteger(seq) || seq <= 0) {
      throw new TstanError(StoreErrorCode.RecordInvalid, `invalid pending sequence ${seq}`);
    }
    const sub = this.subs.get(subId);
    if (sub === undefined) return;
    const size = sub.pending.size;
    sub.pending.add(seq);
    this.pendingTotal += sub.pending.size - size;
    if (seq > sub.state.lastSent) sub.state.lastSent = seq;
    this.log.appendIdSeq(SubRecord.sent, subId, seq);
  }

  ackSeqPending(subId: number, seq: number): void {
    this.checkOpen();
    const sub = this.subs.get(subId);
    if (sub === undefined || !sub.pending.delete(seq)) return;
    this.pendingTotal--;
    this.log.appendIdSeq(SubRecord.ack, subId, seq);
    this.maybeCompact();
  }

  list(): RecoveredSubscription[] {
    return [...this.subs.values()]
      .sort((a, b) => a.state.id - b.state.id)
      .map((s) => ({ sub: { ...s.state }, pending: [...s.pending] }));
  }

  count(): number {
    return this.subs.size;
  }

  flush(): Promise<void> {
    return this.log.flush();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.log.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new TstanError(StoreErrorCode.Closed, 'store is closed');
  }

  private encode(state: SubState): Buffer {
    try {
      return encodeSubState(state);
    } catch (error) {
      throw new TstanError(StoreErrorCode.RecordInvalid, (error as Error).message, { cause: error });
    }
  }

  /** Records a compaction would keep (made once: maybeCompact runs on every ack). */
  private readonly liveRecords = (): number => this.subs.size + this.pendingTotal;

  private maybeCompact(): void {
    if (!this.log.shouldCompact(this.liveRecords)) return;
    const records: Array<TypedRecord | IdSeqRecord> = [];
    for (const { state, pending } of [...this.subs.values()].sort((a, b) => a.state.id - b.state.id)) {
      records.push([SubRecord.create, encodeSubState(state)]);
      for (const seq of pending) records.push([SubRecord.sent, state.id, seq]);
    }
    this.log.compact(records);
  }
}
