// A publish waiting for its batch to be durable. Its bytes (the PubAck a success sends, then the
// message data) are copied out of the NATS read buffer into a shared arena, and the pending
// publish keeps only where they are: under load thousands wait for each fsync, and every object
// that outlives a young-generation collection is promoted only to die. One small object per
// publish, no buffer of its own (a view of the data is made when the publish op is applied).
import type { PublishedMsg } from '../fsm/ops.js';
import { successPubAckLength, writeSuccessPubAck, type PubMsgFields } from './pub-decoder.js';

/** Size of the arenas small publishes share; a bigger one gets an allocation of its own. */
const ARENA_BYTES = 64 * 1024;

export class PendingPublish implements PublishedMsg {
  constructor(
    readonly reply: string,
    /** Where the PubAck goes; '' when the publisher asked for none. */
    readonly ackSubject: string,
    private readonly bytes: Buffer,
    private readonly start: number,
    /** Bytes of the PubAck before the data (0 when none is wanted). */
    readonly ackLength: number,
    readonly dataLength: number,
  ) {}

  /** The message data (a view: the store copies it). */
  get data(): Buffer {
    const from = this.start + this.ackLength;
    return this.bytes.subarray(from, from + this.dataLength);
  }

  /** The PubAck sent on success; it carries the guid (guidOfPubAck). */
  pubAck(): Buffer {
    return this.bytes.subarray(this.start, this.start + this.ackLength);
  }
}

/** Copies publishes into arenas; an arena is freed once no pending publish points into it. */
export class PublishArena {
  private buffer = Buffer.alloc(0);
  private used = 0;

  /** A pending publish for the decoded PubMsg `fields` (valid only during the NATS callback). */
  take(fields: PubMsgFields, ackSubject: string): PendingPublish {
    const ackLength = ackSubject === '' ? 0 : successPubAckLength(fields);
    const dataLength = fields.data.length;
    const length = ackLength + dataLength;
    let buffer = this.buffer;
    let start = this.used;
    if (start + length > buffer.length) {
      if (length > ARENA_BYTES / 2) {
        buffer = Buffer.allocUnsafeSlow(length);
        start = 0;
      } else {
        buffer = this.buffer = Buffer.allocUnsafeSlow(ARENA_BYTES);
        start = 0;
        this.used = length;
      }
    } else {
      this.used += length;
    }
    if (ackLength > 0) writeSuccessPubAck(fields, buffer, start);
    buffer.set(fields.data, start + ackLength);
    return new PendingPublish(fields.reply, ackSubject, buffer, start, ackLength, dataLength);
  }
}
