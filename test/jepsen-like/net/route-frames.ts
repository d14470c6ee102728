// Splits a NATS route byte stream into whole protocol frames, so the link proxy can delay or drop
// a message without ever cutting one in half (docs/testing.md §5.2: bytes dropped mid-stream corrupt the
// framing and turn a network fault into a protocol error). A frame is one control line (INFO,
// PING, RS+, ...) or a message: its line (RMSG, HMSG, LMSG; the last argument is the size)
// followed by the payload and its CRLF. One state machine over bytes, as nats.js parses: frames
// come out as views of the input when they fit in one chunk, and a fallback buffer holds only a
// frame that straddles two chunks.

export type FrameKind = 'control' | 'message';

export interface RouteFrame {
  readonly kind: FrameKind;
  /** The operation, upper case (`RMSG`, `PING`, ...). */
  readonly op: string;
  /** For messages: the subject (after the account). */
  readonly subject: string;
  readonly bytes: Uint8Array;
}

const CR = 0x0d;
const LF = 0x0a;
/** A control line longer than this is not the NATS protocol: the stream is passed through as is. */
const LINE_BYTES_MAX = 1 << 20;
const MESSAGE_OPS = new Set(['RMSG', 'HMSG', 'LMSG', 'MSG', 'PUB', 'HPUB']);

const State = {
  line: 'line',
  payload: 'payload',
  raw: 'raw',
} as const;
type State = (typeof State)[keyof typeof State];

export class RouteFrameSplitter {
  private state: State = State.line;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** While in a payload: bytes still to come (payload + CRLF), and the frame's op and subject. */
  private remaining = 0;
  private op = '';
  private subject = '';

  /** Passes each whole frame of `chunk` (with what came before) to `emit`, in order. */
  push(chunk: Buffer, emit: (frame: RouteFrame) => void): void {
    let start = 0;
    let i = 0;
    while (i < chunk.length) {
      if (this.state === State.raw) {
        emit({ kind: 'control', op: 'RAW', subject: '', bytes: chunk.subarray(i) });
        return;
      }
      if (this.state === State.line) {
        const lf = chunk.indexOf(LF, i);
        if (lf < 0) {
          this.keep(chunk.subarray(start));
          if (this.pendingBytes > LINE_BYTES_MAX) this.becomeRaw(emit);
          return;
        }
        const lineEnd = lf + 1;
        const line = this.take(chunk.subarray(start, lineEnd));
        i = start = lineEnd;
        this.onLine(line, emit);
        // A message's line is part of its frame: held until the payload is complete.
        if ((this.state as State) === State.payload) this.keep(line);
        continue;
      }
      // State.payload
      const available = chunk.length - i;
      if (available < this.remaining) {
        this.keep(chunk.subarray(start));
        this.remaining -= available;
        return;
      }
      const end = i + this.remaining;
      const bytes = this.take(chunk.subarray(start, end));
      emit({ kind: 'message', op: this.op, subject: this.subject, bytes });
      this.state = State.line;
      this.remaining = 0;
      i = end;
      start = end;
    }
  }

  /** The bytes held back (an incomplete frame), e.g. to forward them unchanged when the link is reset. */
  get heldBytes(): number {
    return this.pendingBytes;
  }

  private onLine(line: Buffer, emit: (frame: RouteFrame) => void): void {
    let endOfText = line.length - 1;
    if (endOfText > 0 && line[endOfText - 1] === CR) endOfText--;
    const text = line.toString('latin1', 0, endOfText);
    const args = text.split(/[ \t]+/).filter((a) => a !== '');
    const op = (args[0] ?? '').toUpperCase();
    if (!MESSAGE_OPS.has(op)) {
      emit({ kind: 'control', op, subject: '', bytes: line });
      return;
    }
    const size = Number(args[args.length - 1]);
    if (!Number.isSafeInteger(size) || size < 0) {
      // Not a frame we understand: stop splitting, never drop anything from here on.
      emit({ kind: 'control', op, subject: '', bytes: line });
      this.state = State.raw;
      return;
    }
    this.op = op;
    // RMSG/HMSG: account subject ...; LMSG: origin account subject ...; MSG/PUB: subject ...
    this.subject = (op === 'LMSG' ? args[3] : op === 'RMSG' || op === 'HMSG' ? args[2] : args[1]) ?? '';
    this.remaining = size + 2;
    this.state = State.payload;
  }

  private becomeRaw(emit: (frame: RouteFrame) => void): void {
    this.state = State.raw;
    emit({ kind: 'control', op: 'RAW', subject: '', bytes: this.take(Buffer.alloc(0)) });
  }

  private keep(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
  }

  /** The held-back bytes followed by `tail`, as one buffer; clears what was held. */
  private take(tail: Buffer): Buffer {
    if (this.pendingBytes === 0) return tail;
    const all = Buffer.concat([...this.pending, tail]);
    this.pending = [];
    this.pendingBytes = 0;
    return all;
  }
}
