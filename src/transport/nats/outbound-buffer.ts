// Outbound bytes of one connection, gathered during an event-loop turn and handed to the socket
// at one flush. Frames are written into a slab; a flush hands over the filled part and the next
// frames continue in the rest of the slab, so small flushes do not allocate a slab each, and a
// turn that fills several slabs hands them over as they are, without joining them.

const slabBytes = 64 * 1024;

export class OutboundBuffer {
  private slab: Buffer = Buffer.allocUnsafe(slabBytes);
  private start = 0;
  private end = 0;
  /** Slab parts filled earlier in this turn, waiting for the flush. */
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

  /** Appends text (a control line or part of one). */
  writeText(text: string): void {
    // Worst case of UTF-8 is 3 bytes per UTF-16 unit; cheaper than measuring the exact length.
    this.reserve(text.length * 3);
    this.end += this.slab.write(text, this.end, 'utf8');
  }

  /** Appends bytes as they are (e.g. a cached `MSG <subject> <sid> ` prefix). */
  writeBytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.slab.set(bytes, this.end);
    this.end += bytes.length;
  }

  /** Appends a decimal size and CRLF, ending a control line. */
  writeSizeLine(size: number): void {
    this.reserve(16);
    if (size === 0) {
      this.slab[this.end++] = 48;
    } else {
      let digits = 0;
      for (let rest = size; rest > 0; rest = Math.floor(rest / 10)) digits++;
      let position = this.end + digits;
      for (let rest = size; rest > 0; rest = Math.floor(rest / 10)) this.slab[--position] = 48 + (rest % 10);
      this.end += digits;
    }
    this.slab[this.end++] = 13;
    this.slab[this.end++] = 10;
  }

  /** Appends payload bytes followed by CRLF. */
  writePayload(payload: Uint8Array): void {
    this.reserve(payload.length + 2);
    this.slab.set(payload, this.end);
    this.end += payload.length;
    this.slab[this.end++] = 13;
    this.slab[this.end++] = 10;
  }

  /** Takes everything written since the last flush, in order, or an empty list. */
  take(): Buffer[] {
    const out = this.chunks;
    if (this.end > this.start) out.push(this.slab.subarray(this.start, this.end));
    if (out.length === 0) return out;
    this.chunks = [];
    this.chunkBytes = 0;
    this.start = this.end;
    if (this.slab.length - this.end < 512) {
      this.slab = Buffer.allocUnsafe(slabBytes);
      this.start = 0;
      this.end = 0;
    }
    return out;
  }
}
