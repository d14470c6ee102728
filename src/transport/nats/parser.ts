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
   * `payload` (headers then body) and `args` (an array the parser reuses) are valid only during
   * the call.
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

function parseSizeBytes(line: Buffer, start: number, end: number): number {
  if (end <= start || end - start > 10) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = line[i]! - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** The upper-case operation name; the frequent ones without making a string. */
function operationName(line: Buffer, start: number, end: number): string {
  const length = end - start;
  const b0 = line[start]! | 0x20;
  if (length === 3 && b0 === 0x70 && (line[start + 1]! | 0x20) === 0x75 && (line[start + 2]! | 0x20) === 0x62) return 'PUB';
  if (length === 4) {
    const b1 = line[start + 1]! | 0x20;
    const b2 = line[start + 2]! | 0x20;
    const b3 = line[start + 3]! | 0x20;
    if (b1 === 0x6d && b2 === 0x73 && b3 === 0x67) {
      if (b0 === 0x72) return 'RMSG';
      if (b0 === 0x68) return 'HMSG';
    }
    if (b0 === 0x70 && b1 === 0x69 && b2 === 0x6e && b3 === 0x67) return 'PING';
    if (b0 === 0x70 && b1 === 0x6f && b2 === 0x6e && b3 === 0x67) return 'PONG';
    if (b0 === 0x68 && b1 === 0x70 && b2 === 0x75 && b3 === 0x62) return 'HPUB';
  }
  return line.toString('latin1', start, end).toUpperCase();
}

const SUBJECT_CACHE_BYTES = 256;
/** Args lists up to this long (PUB's 1-2, RMSG's 2-4 with a queue group) reuse an array per length. */
const REUSED_ARGS_MAX = 4;

interface CachedArg {
  readonly bytes: Buffer;
  length: number;
  text: string;
}

function newCachedArg(): CachedArg {
  return { bytes: Buffer.allocUnsafe(SUBJECT_CACHE_BYTES), length: -1, text: '' };
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
  private readonly tokenStarts: number[] = [];
  private readonly tokenEnds: number[] = [];
  private readonly argCache: readonly [CachedArg, CachedArg] = [newCachedArg(), newCachedArg()];
  /**
   * The args arrays handed to onMessage, one per length up to REUSED_ARGS_MAX, reused frame after
   * frame; a longer list (a route message naming many queue groups) gets an array of its own, so
   * that a peer cannot make the parser keep one array of every length it sends.
   */
  private readonly argArrays: string[][] = [];
  /** Bytes received while suspended, parsed on resume(). */
  private held: Buffer | null = null;
  private suspended = false;

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
    this.held = null;
  }

  parse(chunk: Buffer): void {
    if (this.suspended) {
      this.hold(chunk, 0);
      return;
    }
    let offset = 0;
    while (offset < chunk.length) {
      if (this.state === State.Control) offset = this.readControl(chunk, offset);
      else if (this.state === State.Payload) offset = this.readPayload(chunk, offset);
      else return;
      if (this.suspended) {
        this.hold(chunk, offset);
        return;
      }
    }
  }

  /**
   * Stops after the frame being handled: what follows is kept until resume(). For a decision that
   * takes time (a bcrypt password check on CONNECT) before the frames after it may be acted on.
   * The caller pauses the socket meanwhile, which bounds what is kept.
   */
  suspend(): void {
    this.suspended = true;
  }

  /** Parses what arrived while suspended, then goes on as before. */
  resume(): void {
    if (!this.suspended) return;
    this.suspended = false;
    const held = this.held;
    this.held = null;
    if (held !== null && this.state !== State.Failed) this.parse(held);
  }

  private hold(chunk: Buffer, offset: number): void {
    if (offset >= chunk.length) return;
    const rest = chunk.subarray(offset);
    this.held = this.held === null ? Buffer.from(rest) : Buffer.concat([this.held, rest]);
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
    let line = chunk;
    let start = offset;
    let end = newline;
    if (this.controlPending) {
      line = Buffer.concat([this.controlPending, chunk.subarray(offset, newline)]);
      this.controlPending = null;
      start = 0;
      end = line.length;
    }
    if (end > start && line[end - 1] === CR) end--;
    if (end - start > this.limits.maxControlLineBytes) {
      return this.fail(ParseError.ControlLineTooLong, `control line longer than ${this.limits.maxControlLineBytes} bytes`);
    }
    this.handleLine(line, start, end);
    return this.failed ? Number.MAX_SAFE_INTEGER : newline + 1;
  }

  /** Finds the tokens of a control line in place; strings are made only for what is used. */
  private tokenize(line: Buffer, start: number, end: number): number {
    let count = 0;
    let i = start;
    while (i < end) {
      while (i < end && (line[i] === 32 || line[i] === 9)) i++;
      if (i >= end) break;
      this.tokenStarts[count] = i;
      while (i < end && line[i] !== 32 && line[i] !== 9) i++;
      this.tokenEnds[count] = i;
      count++;
    }
    return count;
  }

  private handleLine(line: Buffer, start: number, end: number): void {
    const count = this.tokenize(line, start, end);
    if (count === 0) {
      this.fail(ParseError.UnknownOperation, 'empty control line');
      return;
    }
    const opEnd = this.tokenEnds[0]!;
    const op = operationName(line, this.tokenStarts[0]!, opEnd);
    const shape = this.payloadOps.get(op);
    if (shape === undefined) {
      this.sink.onControl(op, line.toString('utf8', opEnd, end).trim());
      return;
    }
    this.beginPayload(line, op, shape, count);
  }

  private beginPayload(line: Buffer, op: string, shape: PayloadShape, count: number): void {
    const sizeTokens = shape === PayloadShape.WithHeaders ? 2 : 1;
    const argCount = count - 1 - sizeTokens;
    const total = count > sizeTokens ? parseSizeBytes(line, this.tokenStarts[count - 1]!, this.tokenEnds[count - 1]!) : -1;
    const headers = shape === PayloadShape.WithHeaders && count > 2 ? parseSizeBytes(line, this.tokenStarts[count - 2]!, this.tokenEnds[count - 2]!) : 0;
    if (total < 0 || headers < 0 || headers > total || argCount < 1) {
      this.fail(ParseError.BadPayloadSize, `malformed ${op} arguments`);
      return;
    }
    if (total > this.limits.maxPayloadBytes) {
      this.fail(ParseError.PayloadTooLarge, `${total} bytes exceeds ${this.limits.maxPayloadBytes}`);
      return;
    }
    let args = this.argArrays[argCount];
    if (args === undefined) {
      args = new Array<string>(argCount).fill('');
      if (argCount <= REUSED_ARGS_MAX) this.argArrays[argCount] = args;
    }
    for (let i = 0; i < argCount; i++) {
      const start = this.tokenStarts[i + 1]!;
      const end = this.tokenEnds[i + 1]!;
      args[i] = i < 2 ? this.cachedArg(i as 0 | 1, line, start, end) : line.toString('utf8', start, end);
    }
    this.payloadOp = op;
    this.payloadArgs = args;
    this.payloadHeaderBytes = headers;
    this.payloadBytes = total;
    this.payloadFilled = 0;
    this.state = State.Payload;
  }

  /**
   * The subject or reply of a message: a client usually repeats the previous one (a publisher's
   * channel and its PubAck inbox, a subscriber connection's ack inbox), and then gets the same
   * string back, with no new string to make or hash. Each of the first two arguments keeps a copy
   * of its last bytes (up to SUBJECT_CACHE_BYTES).
   */
  private cachedArg(slot: 0 | 1, line: Buffer, start: number, end: number): string {
    const length = end - start;
    const cached = this.argCache[slot];
    if (length === cached.length) {
      const previous = cached.bytes;
      let i = 0;
      while (i < length && previous[i] === line[start + i]) i++;
      if (i === length) return cached.text;
    }
    const text = line.toString('utf8', start, end);
    if (length <= SUBJECT_CACHE_BYTES) {
      line.copy(cached.bytes, 0, start, end);
      cached.length = length;
      cached.text = text;
    }
    return text;
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
