// How the server changes state: it submits ops to a StateWriter and answers clients from the
// results, which arrive only once the ops are durable — fsynced by a standalone node, committed
// (on a majority) by a cluster. Two failures are told apart, because a client may hear "failed"
// only for what is known not to have happened:
// - NotCommittedError: the ops were refused before they could take effect (not the leader, a
//   full queue): the caller answers with an error.
// - InDoubtError: the ops may or may not take effect (leadership lost after proposing, a failed
//   fsync): the caller answers nothing, and the client's own timeout decides.
import { TstanError } from '../util/errors.js';
import type { Op, OpResult } from './ops.js';
import type { ApplyOutcome, StanFsm } from './stan-fsm.js';

export class NotCommittedError extends TstanError {
  /** Refused because this node is not (or no longer) the leader: routine while leadership moves. */
  readonly leadership: boolean;

  constructor(message: string, options?: { cause?: unknown; leadership?: boolean }) {
    super('FSM_NOT_COMMITTED', message, options);
    this.name = 'NotCommittedError';
    this.leadership = options?.leadership === true;
  }
}

/**
 * Whether a writer failure is routine: in doubt (the node is stopping or lost its leadership after
 * proposing) or refused because leadership moved. The client hears the outcome; the operator
 * needs no error line for it.
 */
export function routineWriteFailure(error: unknown): boolean {
  return error instanceof InDoubtError || (error instanceof NotCommittedError && error.leadership);
}

export class InDoubtError extends TstanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FSM_IN_DOUBT', message, options);
    this.name = 'InDoubtError';
  }
}

export interface StateWriter {
  /**
   * Has the ops applied, in submission order, on every node; resolves with one result per op
   * once they are durable. Rejects NotCommittedError or InDoubtError (see above).
   */
  submit(ops: readonly Op[]): Promise<OpResult[]>;
}

interface Queued {
  readonly ops: readonly Op[];
  readonly resolve: (results: OpResult[]) => void;
  readonly reject: (error: Error) => void;
}

/**
 * The standalone writer: applies at once on the local state machine and resolves when the store
 * has made the effects durable. A store that fails (an fsync error) fails the writer closed:
 * nothing submitted afterwards is applied, everything not yet durable is in doubt, and
 * `onFatal` is told once — the node must stop, since a later fsync that succeeds would prove
 * nothing about the writes the failed one covered.
 */
export class LocalWriter implements StateWriter {
  /** Ops waiting while an earlier apply waits for the store (channel creation, deletion). */
  private readonly queue: Queued[] = [];
  private applying = false;
  private failure: Error | undefined;

  constructor(
    private readonly fsm: StanFsm,
    private readonly onFatal: (error: Error) => void,
  ) {}

  get failed(): boolean {
    return this.failure !== undefined;
  }

  submit(ops: readonly Op[]): Promise<OpResult[]> {
    if (this.failure !== undefined) return Promise.reject(this.inDoubt());
    if (this.applying) {
      return new Promise((resolve, reject) => this.queue.push({ ops, resolve, reject }));
    }
    let outcome: ApplyOutcome | Promise<ApplyOutcome>;
    try {
      outcome = this.fsm.apply(ops);
    } catch (error) {
      this.fail(error);
      return Promise.reject(this.inDoubt());
    }
    if (outcome instanceof Promise) {
      this.applying = true;
      const settled = outcome.then(
        (done) => this.afterAsyncApply(done),
        (error: unknown) => {
          this.afterAsyncApply(undefined);
          this.fail(error);
          throw this.inDoubt();
        },
      );
      return settled.then((done) => this.whenDurable(done));
    }
    return this.whenDurable(outcome);
  }

  private afterAsyncApply(done: ApplyOutcome | undefined): ApplyOutcome {
    this.applying = false;
    const waiting = this.queue.splice(0);
    for (const item of waiting) this.submit(item.ops).then(item.resolve, item.reject);
    return done!;
  }

  private whenDurable(outcome: ApplyOutcome): Promise<OpResult[]> {
    return outcome.durable.then(
      () => {
        if (this.failure !== undefined) throw this.inDoubt();
        return outcome.results;
      },
      (error: unknown) => {
        this.fail(error);
        throw this.inDoubt();
      },
    );
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error instanceof Error ? error : new Error(String(error));
    for (const item of this.queue.splice(0)) item.reject(this.inDoubt());
    this.onFatal(this.failure);
  }

  private inDoubt(): InDoubtError {
    return new InDoubtError('the store failed: the outcome is not known', { cause: this.failure });
  }
}
