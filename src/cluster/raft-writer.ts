// The clustered StateWriter: ops submitted during one task are encoded into one Raft entry
// (split only when they exceed the entry bound), proposed on the leader, and answered with their
// results once the entry is committed and applied here. Failures keep what is known apart from
// what is not: refused before being appended, or replaced by another leader's entry at its
// index, is known not committed; anything else (leadership lost while it was in flight, a
// snapshot that replaced the range, the node stopping) is in doubt, and nobody is answered.
import { encodeOps, OPS_BYTES_MAX } from '../fsm/codec.js';
import type { Op, OpResult } from '../fsm/ops.js';
import { InDoubtError, NotCommittedError, type StateWriter } from '../fsm/writer.js';
import { RaftErrorCode } from '../raft/errors.js';

/** What the writer needs of the Raft driver. */
export interface ProposalSink {
  /** Resolves with the entry's apply result (the ops' results) once committed and applied here. */
  propose(data: Uint8Array): Promise<readonly OpResult[]>;
}

/** Error codes of a rejected proposal that prove it is not, and will never be, committed. */
const KNOWN_NOT_COMMITTED = new Set<string>([RaftErrorCode.NotLeader, RaftErrorCode.ProposalRefused, RaftErrorCode.ProposalDropped]);

interface Part {
  readonly count: number;
  readonly resolve: (results: OpResult[]) => void;
  readonly reject: (error: Error) => void;
}

interface Batch {
  readonly ops: Op[];
  readonly parts: Part[];
}

export class RaftWriter implements StateWriter {
  private batch: Batch | undefined;

  constructor(private readonly sink: ProposalSink) {}

  submit(ops: readonly Op[]): Promise<OpResult[]> {
    let batch = this.batch;
    if (batch === undefined) {
      batch = { ops: [], parts: [] };
      this.batch = batch;
      queueMicrotask(() => this.flush());
    }
    const target = batch;
    return new Promise<OpResult[]>((resolve, reject) => {
      for (const op of ops) target.ops.push(op);
      target.parts.push({ count: ops.length, resolve, reject });
    });
  }

  private flush(): void {
    const batch = this.batch;
    this.batch = undefined;
    if (batch === undefined) return;
    for (const group of splitByBytes(batch)) this.propose(group);
  }

  private propose(batch: Batch): void {
    let data: Uint8Array;
    try {
      data = encodeOps(batch.ops);
    } catch (error) {
      const refused = new NotCommittedError(error instanceof Error ? error.message : String(error), { cause: error });
      for (const part of batch.parts) part.reject(refused);
      return;
    }
    this.sink.propose(data).then(
      (results) => {
        let at = 0;
        for (const part of batch.parts) {
          part.resolve(results.slice(at, at + part.count));
          at += part.count;
        }
      },
      (error: unknown) => {
        const code = (error as { code?: unknown } | null)?.code;
        const message = error instanceof Error ? error.message : String(error);
        const outcome =
          typeof code === 'string' && KNOWN_NOT_COMMITTED.has(code)
            ? new NotCommittedError(code === 'RAFT_NOT_LEADER' ? 'node is not the leader' : message, { cause: error, leadership: true })
            : new InDoubtError(message, { cause: error });
        for (const part of batch.parts) part.reject(outcome);
      },
    );
  }
}

/** Whole parts per entry, at most OPS_BYTES_MAX each by a cheap estimate (a big part goes alone). */
function splitByBytes(batch: Batch): Batch[] {
  const estimate = (op: Op): number => (op.type === 'publish' ? op.msgs.reduce((n, m) => n + m.data.length + m.reply.length + 16, 64) : 256);
  const budget = OPS_BYTES_MAX / 2;
  const out: Batch[] = [];
  let current: Batch = { ops: [], parts: [] };
  let bytes = 0;
  let at = 0;
  for (const part of batch.parts) {
    const ops = batch.ops.slice(at, at + part.count);
    at += part.count;
    const size = ops.reduce((n, op) => n + estimate(op), 0);
    if (current.parts.length > 0 && bytes + size > budget) {
      out.push(current);
      current = { ops: [], parts: [] };
      bytes = 0;
    }
    current.ops.push(...ops);
    current.parts.push(part);
    bytes += size;
  }
  if (current.parts.length > 0) out.push(current);
  return out;
}
