// The history of a chaos run: every client operation as Jepsen records it, one JSON object per
// line. An operation is invoked and then completes as `ok`, `fail` (an explicit server rejection,
// so it certainly had no effect) or `info` (timeout, lost connection: the outcome is unknown).
// Deliveries are observations, recorded as `ok` without an invoke. Acks get no reply in STAN, so
// their outcome is always `info`. `connect` and `fault` records log client retries and the
// nemesis; the checkers ignore them.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

export type OpType = 'invoke' | 'ok' | 'fail' | 'info';
export type OpFunction = 'publish' | 'deliver' | 'ack' | 'sub' | 'drain' | 'connect' | 'fault';
/** How a reader consumes its channel: alone (sequence order is checked), as a queue group, or a final drain. */
export type ReaderKind = 'durable' | 'queue' | 'drain';

export interface Op {
  readonly proc: string;
  readonly type: OpType;
  readonly f: OpFunction;
  readonly channel?: string;
  readonly value?: string;
  readonly guid?: string;
  readonly seq?: number;
  readonly node?: string;
  /** Subscription identity of a delivery: a durable name, a queue group or a drain reader. */
  readonly reader?: string;
  readonly readerKind?: ReaderKind;
  readonly redelivered?: boolean;
  /** A delivery's message timestamp (the leader's wall clock when it stored the message), in ms. */
  readonly timestampMs?: number;
  readonly error?: string;
  /** Harness monotonic clock, nanoseconds since the recorder was created. */
  readonly tMonoNs: number;
}

export type OpInput = Omit<Op, 'tMonoNs'>;

const FLUSH_EVERY_MS = 200;

/** Records operations in memory (for the checkers) and appends them to a JSONL file. */
export class HistoryRecorder {
  readonly ops: Op[] = [];
  /** The system's monotonic clock when the recorder began; node traces stamp the same clock. */
  readonly originNs = process.hrtime.bigint();
  private readonly fd: number | undefined;
  private pending: string[] = [];
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(file?: string) {
    if (file !== undefined) {
      this.fd = openSync(file, 'w');
      this.timer = setInterval(() => this.flush(), FLUSH_EVERY_MS);
      this.timer.unref();
    }
  }

  nowNs(): number {
    return Number(process.hrtime.bigint() - this.originNs);
  }

  record(input: OpInput): Op {
    const op: Op = { ...input, tMonoNs: this.nowNs() };
    this.ops.push(op);
    if (this.fd !== undefined) this.pending.push(JSON.stringify(op));
    return op;
  }

  flush(): void {
    if (this.fd === undefined || this.pending.length === 0) return;
    writeSync(this.fd, this.pending.join('\n') + '\n');
    this.pending = [];
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
  }
}

/** Reads a JSONL history back, e.g. to check a run again offline. */
export function loadHistory(file: string): Op[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Op);
}
