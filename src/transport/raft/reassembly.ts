// Puts fragmented Raft messages together again. NATS may lose a fragment (a route drops, a peer
// restarts mid-message), so what is held is bounded three ways: bytes of all partial messages,
// how many are partial at once (the oldest is evicted first: behind newer ones, its missing
// fragments are most likely lost), and how long one may stay partial. Raft sends again what
// matters; a message given up here is only a retransmission later.
import type { FragmentFrame } from './frames.js';

export interface ReassemblyOptions {
  /** Largest message accepted in fragments. */
  readonly messageBytesMax: number;
  /** Bytes held by all partial messages together. */
  readonly bytesMax: number;
  /** Partial messages held at once. */
  readonly partialsMax: number;
  /** Longest a message may stay partial. */
  readonly timeoutMs: number;
}

export interface ReassemblyStats {
  readonly completed: number;
  /** Given up after timeoutMs. */
  readonly expired: number;
  /** Given up to make room for newer ones. */
  readonly evicted: number;
  /** Fragments refused: too large a message, overlapping or inconsistent fragments. */
  readonly refused: number;
}

/** Why a partial message or a fragment was given up, for the transport's log. */
export type ReassemblyDropHandler = (reason: string, from: string, messageId: number) => void;

interface Partial {
  readonly key: string;
  readonly from: string;
  readonly messageId: number;
  readonly totalBytes: number;
  /** Copied chunks by offset. */
  readonly chunks: Map<number, Uint8Array>;
  receivedBytes: number;
  readonly timer: NodeJS.Timeout;
}

export class Reassembly {
  /** In arrival order of their first fragment: the first is the oldest. */
  private readonly partials = new Map<string, Partial>();
  private heldBytes = 0;
  private completed = 0;
  private expired = 0;
  private evicted = 0;
  private refused = 0;

  constructor(
    private readonly options: ReassemblyOptions,
    private readonly onDrop: ReassemblyDropHandler,
  ) {}

  /** Adds a fragment; returns the whole message once this fragment completes it. */
  add(fragment: FragmentFrame): Uint8Array | undefined {
    const { from, messageId, totalBytes, offset, chunk } = fragment;
    if (totalBytes > this.options.messageBytesMax) {
      this.refuse(`a fragmented message of ${totalBytes} bytes is over ${this.options.messageBytesMax}`, from, messageId);
      return undefined;
    }
    const key = `${from}\u0000${messageId}`;
    let partial = this.partials.get(key);
    if (partial !== undefined && partial.totalBytes !== totalBytes) {
      this.discard(partial);
      this.refuse(`fragments of one message disagree on its size (${partial.totalBytes}, ${totalBytes})`, from, messageId);
      partial = undefined;
    }
    if (partial?.chunks.has(offset)) return undefined; // a duplicate
    if (!this.makeRoom(chunk.length, partial === undefined ? key : partial.key)) {
      if (partial !== undefined) this.discard(partial);
      this.refuse(`no room for a fragment of ${chunk.length} bytes`, from, messageId);
      return undefined;
    }
    partial ??= this.open(key, from, messageId, totalBytes);
    partial.chunks.set(offset, new Uint8Array(chunk));
    partial.receivedBytes += chunk.length;
    this.heldBytes += chunk.length;
    if (partial.receivedBytes < totalBytes) return undefined;
    this.discard(partial);
    const message = assemble(partial);
    if (message === undefined) {
      this.refuse('overlapping fragments', from, messageId);
      return undefined;
    }
    this.completed++;
    return message;
  }

  stats(): ReassemblyStats {
    return { completed: this.completed, expired: this.expired, evicted: this.evicted, refused: this.refused };
  }

  get partialCount(): number {
    return this.partials.size;
  }

  get partialBytes(): number {
    return this.heldBytes;
  }

  /** Drops every partial message and its timer. */
  clear(): void {
    for (const partial of [...this.partials.values()]) this.discard(partial);
  }

  private open(key: string, from: string, messageId: number, totalBytes: number): Partial {
    const timer = setTimeout(() => {
      const partial = this.partials.get(key);
      if (partial === undefined) return;
      this.discard(partial);
      this.expired++;
      this.onDrop(`incomplete after ${this.options.timeoutMs} ms (${partial.receivedBytes} of ${totalBytes} bytes)`, from, messageId);
    }, this.options.timeoutMs);
    timer.unref();
    const partial: Partial = { key, from, messageId, totalBytes, chunks: new Map(), receivedBytes: 0, timer };
    this.partials.set(key, partial);
    return partial;
  }

  /** Evicts the oldest other partial messages until `bytes` more fit; false when they cannot. */
  private makeRoom(bytes: number, keep: string): boolean {
    const opening = !this.partials.has(keep);
    for (const partial of this.partials.values()) {
      const full = this.heldBytes + bytes > this.options.bytesMax || (opening && this.partials.size >= this.options.partialsMax);
      if (!full) return true;
      if (partial.key === keep) continue;
      this.discard(partial);
      this.evicted++;
      this.onDrop(`evicted with ${partial.receivedBytes} of ${partial.totalBytes} bytes to make room`, partial.from, partial.messageId);
    }
    return this.heldBytes + bytes <= this.options.bytesMax && (!opening || this.partials.size < this.options.partialsMax);
  }

  private discard(partial: Partial): void {
    if (this.partials.get(partial.key) !== partial) return;
    this.partials.delete(partial.key);
    clearTimeout(partial.timer);
    this.heldBytes -= partial.receivedBytes;
  }

  private refuse(reason: string, from: string, messageId: number): void {
    this.refused++;
    this.onDrop(reason, from, messageId);
  }
}

/** The chunks in offset order if they tile the message exactly; undefined if they overlap. */
function assemble(partial: Partial): Uint8Array | undefined {
  const message = Buffer.allocUnsafe(partial.totalBytes);
  let expected = 0;
  for (const offset of [...partial.chunks.keys()].sort((a, b) => a - b)) {
    if (offset !== expected) return undefined;
    const chunk = partial.chunks.get(offset)!;
    message.set(chunk, offset);
    expected += chunk.length;
  }
  return expected === partial.totalBytes ? message : undefined;
}
