// The replicated state machine of the streaming server: applies batches of ops to the records
// (records.ts) and the message store, and returns one result per op. Apply is deterministic and
// total: the same ops in the same order give the same records, store content and results on
// every node; a malformed op gives the same error everywhere; only a failing store stops it (a
// node that cannot write what was committed must not go on). The standalone server applies
// through a LocalWriter (writer.ts), a clustered one through Raft.
import type { Logger } from '../util/logger.js';
import type { Store } from '../store/types.js';
import { assertNever } from '../util/assert.js';
import { TstanError } from '../util/errors.js';
import { FsmContext, ReplicatedClock } from './context.js';
import { applyConnect, applyDisconnect } from './apply-clients.js';
import { applyCreateChannel, applyDeleteChannel, applyExpire, applyPublish } from './apply-channels.js';
import { applySentAck, applySubscribe, applyUnsubscribe } from './apply-subs.js';
import { failed, type Op, type OpResult } from './ops.js';
import { emptyStreamingState, type StreamingState } from './records.js';

export interface ApplyOutcome {
  readonly results: OpResult[];
  /** Resolves when every store write of this apply is durable; rejects when the store failed. */
  readonly durable: Promise<void>;
}

export interface StanFsmOptions {
  readonly store: Store;
  /** The clock the store was opened with: the FSM moves it to each op's time. */
  readonly clock: ReplicatedClock;
  /** Also write client and subscription records to the store (standalone FILE store). */
  readonly persistRecords: boolean;
  readonly logger: Logger;
  /** Records to start from (recovered from a standalone store); empty by default. */
  readonly state?: StreamingState;
}

export class StanFsm {
  readonly store: Store;
  readonly clock: ReplicatedClock;
  private readonly ctx: FsmContext;
  private stateInUse: StreamingState;
  private failure: Error | undefined;

  constructor(options: StanFsmOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.stateInUse = options.state ?? emptyStreamingState();
    this.ctx = new FsmContext(this.stateInUse, options.store, options.persistRecords, options.clock, options.logger);
  }

  /** The records, for reading: they change only through apply() and restore. */
  get state(): StreamingState {
    return this.stateInUse;
  }

  /** Replaces the records wholesale (snapshot restore); the store must already match them. */
  replaceState(state: StreamingState): void {
    this.stateInUse = state;
    this.ctx.state = state;
  }

  /**
   * Applies ops in order. Synchronous unless an op must wait for the store (channel creation or
   * deletion); then a Promise. Throws (or rejects) only when the store failed: the caller must
   * stop applying, since the state can no longer be vouched for.
   */
  apply(ops: readonly Op[]): ApplyOutcome | Promise<ApplyOutcome> {
    if (this.failure !== undefined) throw this.failure;
    const results: OpResult[] = new Array<OpResult>(ops.length);
    for (let i = 0; i < ops.length; i++) {
      const result = this.applyOne(ops[i]!);
      if (result instanceof Promise) return this.finishAsync(ops, results, i, result);
      results[i] = result;
    }
    return { results, durable: this.ctx.takeDurability() };
  }

  private async finishAsync(ops: readonly Op[], results: OpResult[], at: number, pending: Promise<OpResult>): Promise<ApplyOutcome> {
    results[at] = await this.guard(pending);
    for (let i = at + 1; i < ops.length; i++) {
      const result = this.applyOne(ops[i]!);
      results[i] = result instanceof Promise ? await this.guard(result) : result;
    }
    return { results, durable: this.ctx.takeDurability() };
  }

  private async guard(pending: Promise<OpResult>): Promise<OpResult> {
    try {
      return await pending;
    } catch (error) {
      throw this.fail(error);
    }
  }

  private applyOne(op: Op): OpResult | Promise<OpResult> {
    try {
      return this.dispatch(op);
    } catch (error) {
      throw this.fail(error);
    }
  }

  private dispatch(op: Op): OpResult | Promise<OpResult> {
    const ctx = this.ctx;
    switch (op.type) {
      case 'connect':
        return applyConnect(ctx, op);
      case 'disconnect':
        return applyDisconnect(ctx, op);
      case 'createChannel':
        return applyCreateChannel(ctx, op);
      case 'publish':
        return applyPublish(ctx, op);
      case 'subscribe':
        return applySubscribe(ctx, op);
      case 'unsubscribe':
        return applyUnsubscribe(ctx, op);
      case 'sentAck':
        return applySentAck(ctx, op);
      case 'deleteChannel':
        return applyDeleteChannel(ctx, op);
      case 'expire':
        return applyExpire(ctx, op);
      default:
        return assertNever(op, 'op');
    }
  }

  private fail(error: unknown): Error {
    this.failure ??= new TstanError('FSM_STORE_FAILED', `the state machine stopped: the store failed while applying (${String(error)})`, {
      cause: error,
    });
    return this.failure;
  }

  /** Resolves once everything applied so far is fsynced in the store. */
  async sync(): Promise<void> {
    const flushes: Array<Promise<void>> = [];
    for (const channel of this.stateInUse.channels.values()) {
      flushes.push(channel.store.msgs.sync(), channel.store.subs.flush());
    }
    await Promise.all(flushes);
  }
}
