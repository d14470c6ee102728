// The payload of one NATS message of the Raft transport: a frame. A batch frame carries many
// encoded Raft messages for one peer; a message too big for one NATS payload travels as
// fragments, each in a frame of its own, and is put together again by the receiver.
//
//   header    version u8 (1) | kind u8 | fromLength u8 | from | toLength u8 | to     (node IDs, ASCII)
//   batch     count u16 | count × (length u32 | encoded message)
//   fragment  messageId u32 | totalBytes u32 | offset u32 | chunk (the rest of the payload)
//
// Integers are big-endian. Reading is total: a payload that is not a well-formed frame gives the
// reason, never an exception.

const frameVersion = 1;

export const FrameKind = { Batch: 1, Fragment: 2 } as const;

/** Bytes a fragment frame adds to its header before the chunk. */
const fragmentFieldBytes = 12;
/** Largest message count in one batch frame (its count is a u16). */
const batchMessagesMax = 0xffff;

export interface BatchFrame {
  readonly kind: typeof FrameKind.Batch;
  readonly from: string;
  readonly to: string;
  /** Views into the payload, valid only as long as it is. */
  readonly messages: readonly Uint8Array[];
}

export interface FragmentFrame {
  readonly kind: typeof FrameKind.Fragment;
  readonly from: string;
  readonly to: string;
  readonly messageId: number;
  readonly totalBytes: number;
  readonly offset: number;
  /** A view into the payload, valid only as long as it is. */
  readonly chunk: Uint8Array;
}

export type Frame = BatchFrame | FragmentFrame;

function headerBytes(from: string, to: string): number {
  return 4 + from.length + to.length;
}

/** The smallest frame size that can still carry a fragment of one byte between these nodes. */
export function frameBytesMin(from: string, to: string): number {
  return headerBytes(from, to) + fragmentFieldBytes + 1;
}

function writeHeader(frame: Buffer, kind: number, from: string, to: string): number {
  frame[0] = frameVersion;
  frame[1] = kind;
  frame[2] = from.length;
  let at = 3 + frame.write(from, 3, 'latin1');
  frame[at++] = to.length;
  return at + frame.write(to, at, 'latin1');
}

/**
 * Packs encoded messages for one peer into as few frames of at most `frameBytesMax` as their
 * order allows: consecutive messages share a batch frame while it has room; a message that cannot
 * fit any batch frame on its own is cut into fragments under a fresh `messageId()`.
 */
export function packFrames(
  from: string,
  to: string,
  encoded: readonly Uint8Array[],
  frameBytesMax: number,
  messageId: () => number,
): Buffer[] {
  const header = headerBytes(from, to);
  const batchRoom = frameBytesMax - header - 2;
  const frames: Buffer[] = [];
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  const closeBatch = (): void => {
    if (batch.length > 0) frames.push(writeBatch(from, to, batch, header + 2 + batchBytes));
    batch = [];
    batchBytes = 0;
  };
  for (const message of encoded) {
    const bytes = 4 + message.length;
    if (bytes > batchRoom) {
      closeBatch();
      for (const fragment of writeFragments(from, to, message, frameBytesMax, messageId())) frames.push(fragment);
      continue;
    }
    if (batchBytes + bytes > batchRoom || batch.length === batchMessagesMax) closeBatch();
    batch.push(message);
    batchBytes += bytes;
  }
  closeBatch();
  return frames;
}

function writeBatch(from: string, to: string, messages: readonly Uint8Array[], frameBytes: number): Buffer {
  const frame = Buffer.allocUnsafe(frameBytes);
  let at = writeHeader(frame, FrameKind.Batch, from, to);
  at = frame.writeUInt16BE(messages.length, at);
  for (const message of messages) {
    at = frame.writeUInt32BE(message.length, at);
    frame.set(message, at);
    at += message.length;
  }
  return frame;
}

function writeFragments(from: string, to: string, message: Uint8Array, frameBytesMax: number, messageId: number): Buffer[] {
  const chunkBytesMax = frameBytesMax - headerBytes(from, to) - fragmentFieldBytes;
  const fragments: Buffer[] = [];
  for (let offset = 0; offset < message.length; offset += chunkBytesMax) {
    const chunk = message.subarray(offset, offset + chunkBytesMax);
    const frame = Buffer.allocUnsafe(headerBytes(from, to) + fragmentFieldBytes + chunk.length);
    let at = writeHeader(frame, FrameKind.Fragment, from, to);
    at = frame.writeUInt32BE(messageId, at);
    at = frame.writeUInt32BE(message.length, at);
    at = frame.writeUInt32BE(offset, at);
    frame.set(chunk, at);
    fragments.push(frame);
  }
  return fragments;
}

/** The frame in `payload`, or why it is not one. */
export function readFrame(payload: Uint8Array): Frame | string {
  const view = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (view.length < 4) return 'frame shorter than its header';
  if (view[0] !== frameVersion) return `unknown frame version ${view[0]}`;
  const kind = view[1];
  const fromLength = view[2]!;
  let at = 3;
  if (at + fromLength + 1 > view.length) return 'frame cut inside its header';
  const from = view.toString('latin1', at, at + fromLength);
  at += fromLength;
  const toLength = view[at++]!;
  if (at + toLength > view.length) return 'frame cut inside its header';
  const to = view.toString('latin1', at, at + toLength);
  at += toLength;
  if (kind === FrameKind.Batch) return readBatch(view, at, from, to);
  if (kind === FrameKind.Fragment) return readFragment(view, at, from, to);
  return `unknown frame kind ${String(kind)}`;
}

function readBatch(view: Buffer, start: number, from: string, to: string): BatchFrame | string {
  if (start + 2 > view.length) return 'batch frame without a count';
  const count = view.readUInt16BE(start);
  let at = start + 2;
  const messages: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 4 > view.length) return `batch frame cut before message ${i} of ${count}`;
    const length = view.readUInt32BE(at);
    at += 4;
    if (length === 0 || at + length > view.length) return `batch frame cut inside message ${i} of ${count}`;
    messages.push(view.subarray(at, at + length));
    at += length;
  }
  if (at !== view.length) return `batch frame has ${view.length - at} bytes after its ${count} messages`;
  return { kind: FrameKind.Batch, from, to, messages };
}

function readFragment(view: Buffer, start: number, from: string, to: string): FragmentFrame | string {
  if (start + fragmentFieldBytes >= view.length) return 'fragment frame without a chunk';
  const messageId = view.readUInt32BE(start);
  const totalBytes = view.readUInt32BE(start + 4);
  const offset = view.readUInt32BE(start + 8);
  const chunk = view.subarray(start + fragmentFieldBytes);
  if (offset + chunk.length > totalBytes) return `fragment [${offset}, ${offset + chunk.length}) beyond its message's ${totalBytes} bytes`;
  return { kind: FrameKind.Fragment, from, to, messageId, totalBytes, offset, chunk };
}
