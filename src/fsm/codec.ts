// The binary form of a batch of ops, as it goes into a Raft log entry: msgpack of
// [version, op, op, ...], each op a positional array led by a type code. Decoding is total: any
// input gives either ops that passed every type and range check, or a DecodeFailure with a reason
// — the same on every node, so a malformed entry yields the same error everywhere and never
// throws a node down.
import { Packr } from 'msgpackr';
import { failed, type Op, type PublishedMsg, type SentAndAcked } from './ops.js';
import type { ApplyOutcome, StanFsm } from './stan-fsm.js';
import { assertNever } from '../util/assert.js';

export const OPS_FORMAT_VERSION = 1;
/** Largest encoded batch; callers split bigger work (publish batches are bounded in bytes). */
export const OPS_BYTES_MAX = 8 * 1024 * 1024;

const CODE = {
  connect: 1,
  disconnect: 2,
  createChannel: 3,
  publish: 4,
  subscribe: 5,
  unsubscribe: 6,
  sentAck: 7,
  deleteChannel: 8,
  expire: 9,
} as const;

// int64 values (timestamps) come back as bigint; numbers above 2^32 may too: `toCount` takes both.
const packr = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true, moreTypes: false });

export interface DecodeFailure {
  readonly malformed: string;
}

export class OpsTooLargeError extends Error {
  readonly code = 'FSM_OPS_TOO_LARGE';
}

function encodeOp(op: Op): unknown[] {
  switch (op.type) {
    case 'connect':
      return [CODE.connect, op.clientId, op.hbInbox, op.connId, op.protocol, op.pingInterval, op.pingMaxOut, op.replace];
    case 'disconnect':
      return [CODE.disconnect, op.clientId];
    case 'createChannel':
      return [CODE.createChannel, op.channel];
    case 'publish': {
      const flat: unknown[] = [CODE.publish, op.channel, op.firstSeq, op.timestampNs];
      for (const msg of op.msgs) flat.push(msg.reply, msg.data);
      return flat;
    }
    case 'subscribe':
      return [
        CODE.subscribe, op.channel, op.subId, op.clientId, op.qGroup, op.durableName, op.inbox, op.ackInbox,
        op.maxInFlight, op.ackWaitInSecs, op.startLastSent, op.replaceDurable,
      ];
    case 'unsubscribe':
      return [CODE.unsubscribe, op.channel, op.subId, op.clientId, op.remove];
    case 'sentAck': {
      const flat: unknown[] = [CODE.sentAck, op.channel];
      for (const sub of op.subs) flat.push(sub.subId, sub.sent, sub.acked);
      return flat;
    }
    case 'deleteChannel':
      return [CODE.deleteChannel, op.channel, op.channelId, op.lastSeq];
    case 'expire':
      return [CODE.expire, op.channel, op.throughSeq];
    default:
      return assertNever(op, 'op');
  }
}

/** Encodes a batch; throws OpsTooLargeError past OPS_BYTES_MAX. */
export function encodeOps(ops: readonly Op[]): Uint8Array {
  const body: unknown[] = [OPS_FORMAT_VERSION];
  for (const op of ops) body.push(encodeOp(op));
  const bytes = packr.pack(body);
  if (bytes.length > OPS_BYTES_MAX) throw new OpsTooLargeError(`ops batch of ${bytes.length} bytes exceeds ${OPS_BYTES_MAX}`);
  return bytes;
}

class Malformed extends Error {}

function fail(reason: string): never {
  throw new Malformed(reason);
}

/** Reads one op's fields in order, checking each type. */
class Fields {
  private index = 1;
  constructor(
    private readonly values: readonly unknown[],
    private readonly what: string,
  ) {}

  private next(): unknown {
    if (this.index >= this.values.length) fail(`${this.what}: missing field ${this.index}`);
    return this.values[this.index++];
  }

  get remaining(): number {
    return this.values.length - this.index;
  }

  string(): string {
    const value = this.next();
    if (typeof value !== 'string') fail(`${this.what}: field ${this.index - 1} is not a string`);
    return value;
  }

  bytes(): Uint8Array {
    const value = this.next();
    if (!(value instanceof Uint8Array)) fail(`${this.what}: field ${this.index - 1} is not bytes`);
    return value;
  }

  bool(): boolean {
    const value = this.next();
    if (typeof value !== 'boolean') fail(`${this.what}: field ${this.index - 1} is not a boolean`);
    return value;
  }

  /** A non-negative safe integer (msgpack may hand large ones back as bigint). */
  count(): number {
    return toCount(this.next(), `${this.what}: field ${this.index - 1}`);
  }

  /** A 32-bit signed integer (protocol fields such as pingInterval may be negative in tests). */
  int32(): number {
    const value = this.next();
    if (typeof value !== 'number' || !Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
      fail(`${this.what}: field ${this.index - 1} is not an int32`);
    }
    return value;
  }

  int64(): bigint {
    const value = this.next();
    if (typeof value === 'bigint') return value;
    if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
    return fail(`${this.what}: field ${this.index - 1} is not an int64`);
  }

  counts(): number[] {
    const value = this.next();
    if (!Array.isArray(value)) fail(`${this.what}: field ${this.index - 1} is not a list`);
    return value.map((item, i) => toCount(item, `${this.what}: field ${this.index - 1}[${i}]`));
  }

  end(): void {
    if (this.index !== this.values.length) fail(`${this.what}: ${this.values.length - this.index} unexpected fields`);
  }
}

function toCount(value: unknown, what: string): number {
  if (typeof value === 'bigint') {
    if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} is out of range`);
    return Number(value);
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail(`${what} is not a non-negative integer`);
  return value;
}

function decodeOp(raw: unknown, position: number): Op {
  if (!Array.isArray(raw) || raw.length === 0) fail(`op ${position} is not a list`);
  const code = raw[0];
  const f = new Fields(raw, `op ${position}`);
  let op: Op;
  switch (code) {
    case CODE.connect:
      op = {
        type: 'connect', clientId: f.string(), hbInbox: f.string(), connId: f.bytes(), protocol: f.int32(),
        pingInterval: f.int32(), pingMaxOut: f.int32(), replace: f.bool(),
      };
      break;
    case CODE.disconnect:
      op = { type: 'disconnect', clientId: f.string() };
      break;
    case CODE.createChannel:
      op = { type: 'createChannel', channel: f.string() };
      break;
    case CODE.publish: {
      const channel = f.string();
      const firstSeq = f.count();
      const timestampNs = f.int64();
      if (f.remaining % 2 !== 0) fail(`op ${position}: publish messages come in (reply, data) pairs`);
      const msgs: PublishedMsg[] = [];
      while (f.remaining > 0) msgs.push({ reply: f.string(), data: f.bytes() });
      op = { type: 'publish', channel, firstSeq, timestampNs, msgs };
      break;
    }
    case CODE.subscribe:
      op = {
        type: 'subscribe', channel: f.string(), subId: f.count(), clientId: f.string(), qGroup: f.string(),
        durableName: f.string(), inbox: f.string(), ackInbox: f.string(), maxInFlight: f.int32(),
        ackWaitInSecs: f.int32(), startLastSent: f.count(), replaceDurable: f.bool(),
      };
      break;
    case CODE.unsubscribe:
      op = { type: 'unsubscribe', channel: f.string(), subId: f.count(), clientId: f.string(), remove: f.bool() };
      break;
    case CODE.sentAck: {
      const channel = f.string();
      if (f.remaining % 3 !== 0) fail(`op ${position}: sentAck entries come in (subId, sent, acked) triples`);
      const subs: SentAndAcked[] = [];
      while (f.remaining > 0) subs.push({ subId: f.count(), sent: f.counts(), acked: f.counts() });
      op = { type: 'sentAck', channel, subs };
      break;
    }
    case CODE.deleteChannel:
      op = { type: 'deleteChannel', channel: f.string(), channelId: f.count(), lastSeq: f.count() };
      break;
    case CODE.expire:
      op = { type: 'expire', channel: f.string(), throughSeq: f.count() };
      break;
    default:
      return fail(`op ${position} has unknown type ${String(code)}`);
  }
  f.end();
  return op;
}

/** Decodes a batch; never throws. */
export function decodeOps(bytes: Uint8Array): Op[] | DecodeFailure {
  if (bytes.length > OPS_BYTES_MAX) return { malformed: `ops batch of ${bytes.length} bytes exceeds ${OPS_BYTES_MAX}` };
  let body: unknown;
  try {
    body = packr.unpack(bytes);
  } catch (error) {
    return { malformed: `not msgpack: ${error instanceof Error ? error.message : String(error)}` };
  }
  try {
    if (!Array.isArray(body) || body.length === 0) fail('not a list');
    if (body[0] !== OPS_FORMAT_VERSION) fail(`unknown ops format version ${String(body[0])}`);
    const ops: Op[] = [];
    for (let i = 1; i < body.length; i++) ops.push(decodeOp(body[i], i - 1));
    return ops;
  } catch (error) {
    if (error instanceof Malformed) return { malformed: error.message };
    return { malformed: `undecodable: ${error instanceof Error ? error.message : String(error)}` };
  }
}

export function isDecodeFailure(value: Op[] | DecodeFailure): value is DecodeFailure {
  return !Array.isArray(value);
}

/**
 * Applies an encoded batch (a Raft entry) to `fsm`; undecodable input gives one error result.
 * Here rather than on StanFsm so that a standalone server, which applies ops as they are, never
 * loads msgpack (its native add-on alone costs a few MB of resident memory).
 */
export function applyEncodedOps(fsm: StanFsm, bytes: Uint8Array): ApplyOutcome | Promise<ApplyOutcome> {
  const ops = decodeOps(bytes);
  if (isDecodeFailure(ops)) return { results: [failed(`stan: malformed operation: ${ops.malformed}`)], durable: Promise.resolve() };
  return fsm.apply(ops);
}
