// Outbound bytes of one connection, gathered during an event-loop turn and handed to the socket
// in one write. Frames are written into a slab; a flush hands the filled part to the socket and
// the next frames continue in the rest of the slab, so small flushes do not allocate a slab each.

const slabBytes = 64 * 1024;

export class OutboundBuffer {
  private slab: Buffer = Buffer.allocUnsafe(slabBytes);
  private start = 0;
  private end = 0;
  /** Chunks filled past a slab boundary, waiting with the current slab part for the next flush. */
  private chunks: Buffer[] = [];
  private chunkBytes = 0;

  /** Bytes written since the last flush. */
  get pendingBytes(): number {
    return this.chunkBytes + (this.end - this.start);
  }

  private reserve(bytes: number): void {
    if (this.slab.length - this.end >= bytes) return;
    if (this.end > this.start) {
      const filled = this.slab.subarray(this.start, this.end);
      this.chunks.push(filled);
      this.chunkBytes += filled.length;
    }
    this.slab = Buffer.allocUnsafe(Math.max(slabBytes, bytes));
    this.start = 0;
    this.end = 0;
  }

  /** Appends a control line (already including its CRLF). */
  writeText(text: string): void {
    const bytes = Buffer.byteLength(text, 'utf8');
    this.reserve(bytes);
    this.end += this.slab.write(text, this.end, 'utf8');
  }

  /** Appends payload bytes followed by CRLF. */
  writePayload(payload: Uint8Array): void {
    this.reserve(payload.length + 2);
    this.slab.set(payload, this.end);
    this.end += payload.length;
    this.slab[this.end++] = 13;
    this.slab[this.end++] = 10;
  }

  /** Takes everything written since the last flush as one buffer, or null when there is none. */
  take(): Buffer | null {
    if (this.end === this.start && this.chunks.length === 0) return null;
    let out: Buffer;
    const tail = this.slab.subarray(this.start, this.end);
    if (this.chunks.length === 0) {
      out = tail;
    } else {
      this.chunks.push(tail);
      out = Buffer.concat(this.chunks, this.chunkBytes + tail.length);
      this.chunks = [];
      this.chunkBytes = 0;
    }
    this.start = this.end;
    if (this.slab.length - this.end < 512) {
      this.slab = Buffer.allocUnsafe(slabBytes);
      this.start = 0;
      this.end = 0;
    }
    return out;
  }
}
