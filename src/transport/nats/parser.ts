// The NATS wire parser: one state machine over raw socket bytes, shared by client connections
// and routes. A control line ends at LF; operations that carry a payload (PUB, HPUB, RMSG, HMSG)
// then take exactly `size` bytes and a CRLF. Frames may straddle reads at any byte and many
// frames may share a read: complete payloads are handed out as views of the read buffer, and only
// a payload split across reads is copied into a buffer of its own.

export const ParseError = {
  UnknownOperation: 'Unknown Protocol Operation',
  ControlLineTooLong: 'Maximum Control Line Exceeded',
  PayloadTooLarge: 'Maximum Payload Violation',
  BadPayloadSize: 'Invalid Payload Size',
  MissingPayloadTerminator: 'Missing CRLF After Payload',
} as const;
export type ParseError = (typeof ParseError)[keyof typeof ParseError];

/** How an operation's payload is sized: by its last argument, or by its last two (headers). */
export const PayloadShape = { Plain: 1, WithHeaders: 2 } as const;
export type PayloadShape = (typeof PayloadShape)[keyof typeof PayloadShape];

export interface ParserSink {
  /** An operation without payload; `rest` is the line after the operation name, trimmed. */
  onControl(op: string, rest: string): void;
  /**
   * An operation with payload. `args` excludes the sizes; `headerBytes` is 0 for plain payloads.
   * `payload` (headers then body) is valid only during the call.
   */
  onMessage(op: string, args: string[], headerBytes: number, payload: Uint8Array): void;
  /** The stream is unusable past this point: the connection sends -ERR and closes. */
  onParseError(error: ParseError, detail: string): void;
}

export interface ParserLimits {
  readonly maxControlLineBytes: number;
  readonly maxPayloadBytes: number;
}

const LF = 10;
const CR = 13;
const State = { Control: 0, Payload: 1, Failed: 2 } as const;
type State = (typeof State)[keyof typeof State];

export const clientPayloadOps: ReadonlyMap<string, PayloadShape> = new Map([
  ['PUB', PayloadShape.Plain],
  ['HPUB', PayloadShape.WithHeaders],
]);

export const routePayloadOps: ReadonlyMap<string, PayloadShape> = new Map([
  ['RMSG', PayloadShape.Plain],
  ['HMSG', PayloadShape.WithHeaders],
  ['LMSG', PayloadShape.Plain],
]);

/** Splits protocol arguments on runs of spaces and tabs. */
export function splitArgs(text: string): string[] {
  const args: string[] = [];
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9) {
      if (start >= 0) {
        args.push(text.slice(start, i));
        start = -1;
      }
    } else if (start < 0) {
      start = i;
    }
  }
  if (start >= 0) args.push(text.slice(start));
  return args;
}

function parseSize(text: string | undefined): number {
  if (text === undefined || text.length === 0 || text.length > 10) return -1;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

export class ProtocolParser {
  private state: State = State.Control;
  private controlPending: Buffer | null = null;
  private payloadOp = '';
  private payloadArgs: string[] = [];
  private payloadHeaderBytes = 0;
  private payloadBytes = 0;
  private payloadBuffer: Buffer | null = null;
  private payloadFilled = 0;

  constructor(
    private readonly sink: ParserSink,
    private readonly limits: ParserLimits,
    private readonly payloadOps: ReadonlyMap<string, PayloadShape>,
  ) {}

  get failed(): boolean {
    return this.state === State.Failed;
  }

  /** Stops parsing for good, e.g. when the connection closes in the middle of a read. */
  halt(): void {
    this.state = State.Failed;
    this.controlPending = null;
    this.payloadBuffer = null;
  }

  parse(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.state === State.Control) offset = this.readControl(chunk, offset);
      else if (this.state === State.Payload) offset = this.readPayload(chunk, offset);
      else return;
    }
  }

  private fail(error: ParseError, detail: string): number {
    this.state = State.Failed;
    this.controlPending = null;
    this.payloadBuffer = null;
    this.sink.onParseError(error, detail);
    return Number.MAX_SAFE_INTEGER;
  }

  private readControl(chunk: Buffer, offset: number): number {
    const newline = chunk.indexOf(LF, offset);
    if (newline < 0) {
      const tail = chunk.subarray(offset);
      this.controlPending = this.controlPending ? Buffer.concat([this.controlPending, tail]) : Buffer.from(tail);
      if (this.controlPending.length > this.limits.maxControlLineBytes) {
        return this.fail(ParseError.ControlLineTooLong, `control line longer than ${this.limits.maxControlLineBytes} bytes`);
      }
      return chunk.length;
    }
    let line: Buffer = chunk.subarray(offset, newline);
    if (this.controlPending) {
      line = Buffer.concat([this.controlPending, line]);
      this.controlPending = null;
    }
    let end = line.length;
    if (end > 0 && line[end - 1] === CR) end--;
    if (end > this.limits.maxControlLineBytes) {
      return this.fail(ParseError.ControlLineTooLong, `control line longer than ${this.limits.maxControlLineBytes} bytes`);
    }
    this.handleLine(line.toString('utf8', 0, end));
    return this.state === State.Failed ? Number.MAX_SAFE_INTEGER : newline + 1;
  }

  private handleLine(text: string): void {
    let opEnd = 0;
    while (opEnd < text.length) {
      const c = text.charCodeAt(opEnd);
      if (c === 32 || c === 9) break;
      opEnd++;
    }
    if (opEnd === 0) {
      this.fail(ParseError.UnknownOperation, 'empty control line');
      return;
    }
    const rawOp = text.slice(0, opEnd);
    const op = rawOp.toUpperCase();
    const rest = text.slice(opEnd).trim();
    const shape = this.payloadOps.get(op);
    if (shape === undefined) {
      this.sink.onControl(op, rest);
      return;
    }
    this.beginPayload(op, shape, rest);
  }

  private beginPayload(op: string, shape: PayloadShape, rest: string): void {
    const args = splitArgs(rest);
    const total = parseSize(args.pop());
    const headers = shape === PayloadShape.WithHeaders ? parseSize(args.pop()) : 0;
    if (total < 0 || headers < 0 || headers > total || args.length === 0) {
      this.fail(ParseError.BadPayloadSize, `malformed ${op} arguments`);
      return;
    }
    if (total > this.limits.maxPayloadBytes) {
      this.fail(ParseError.PayloadTooLarge, `${total} bytes exceeds ${this.limits.maxPayloadBytes}`);
      return;
    }
    this.payloadOp = op;
    this.payloadArgs = args;
    this.payloadHeaderBytes = headers;
    this.payloadBytes = total;
    this.payloadFilled = 0;
    this.state = State.Payload;
  }

  private readPayload(chunk: Buffer, offset: number): number {
    const frameBytes = this.payloadBytes + 2;
    if (this.payloadBuffer === null && chunk.length - offset >= frameBytes) {
      const end = offset + this.payloadBytes;
      if (chunk[end] !== CR || chunk[end + 1] !== LF) {
        return this.fail(ParseError.MissingPayloadTerminator, `${this.payloadOp} payload not followed by CRLF`);
      }
      this.state = State.Control;
      this.sink.onMessage(this.payloadOp, this.payloadArgs, this.payloadHeaderBytes, chunk.subarray(offset, end));
      return this.failed ? Number.MAX_SAFE_INTEGER : end + 2;
    }
    if (this.payloadBuffer === null) this.payloadBuffer = Buffer.allocUnsafe(frameBytes);
    const take = Math.min(frameBytes - this.payloadFilled, chunk.length - offset);
    chunk.copy(this.payloadBuffer, this.payloadFilled, offset, offset + take);
    this.payloadFilled += take;
    if (this.payloadFilled < frameBytes) return offset + take;
    const buffer = this.payloadBuffer;
    this.payloadBuffer = null;
    if (buffer[this.payloadBytes] !== CR || buffer[this.payloadBytes + 1] !== LF) {
      return this.fail(ParseError.MissingPayloadTerminator, `${this.payloadOp} payload not followed by CRLF`);
    }
    this.state = State.Control;
    this.sink.onMessage(this.payloadOp, this.payloadArgs, this.payloadHeaderBytes, buffer.subarray(0, this.payloadBytes));
    return this.failed ? Number.MAX_SAFE_INTEGER : offset + take;
  }
}
