// Sets and maps of message sequences, for what a subscription has pending: sequences sent and not
// yet acknowledged. A subscription's pending sequences are few (at most MaxInFlight), close
// together and mostly added at the top and removed from the bottom, and every delivery and every
// ack touches them, in three places (the serving runtime, the replicated records, the FILE
// store). So they are kept as a window: flags (and values) in a ring indexed from the lowest
// pending sequence. Adding, removing and finding are index arithmetic, with no hashing and no
// object or number allocated per entry. Sequences far apart with few between them would make
// the window mostly empty; past a density bound the structure keeps a plain Map instead, and
// goes back to a window once it is empty. A structure that never held anything has no window
// (a server may hold many idle subscriptions). Iteration is always in ascending sequence order:
// digests, store listings and subs.dat compaction take it as it comes, without sorting.
// Sequences are safe non-negative integers: what reaches these structures was checked where it
// was decoded (operations, snapshots, subs.dat records) or decided by delivery.

/** The window's slot count when its first entry comes (a power of two). */
const SLOTS_INITIAL = 8;
/** A window of up to this many slots may be sparse... */
const SLOTS_DENSE_FREE = 1024;
/** ...a larger one needs at least one entry in this many slots, else entries go to a Map. */
const SLOTS_PER_ENTRY_MAX = 16;
/** An emptied window larger than this is given back. */
const SLOTS_KEPT_EMPTY_MAX = 4096;
/**
 * What a window holds before its first entry: a server may have many subscriptions that never
 * get a message, and each has three of these structures. Zero-length, so never written.
 */
const NO_SLOTS = new Uint8Array(0);
const NO_VALUES = new Float64Array(0);

class SeqWindow {
  /** Flags by ring slot; slot `head` holds `lo`. Slots outside [lo, hi] are always 0. */
  private present = NO_SLOTS;
  /** Values by ring slot (maps only). */
  private slotValues: Float64Array | undefined;
  private mask = 0;
  private head = 0;
  /** Lowest and highest sequence held while count > 0. */
  private lo = 0;
  private hi = 0;
  private count = 0;
  /** Every entry, when the window would be too sparse; undefined in window mode. */
  private sparse: Map<number, number> | undefined;

  constructor(withValues: boolean) {
    if (withValues) this.slotValues = NO_VALUES;
  }

  get size(): number {
    return this.sparse === undefined ? this.count : this.sparse.size;
  }

  has(seq: number): boolean {
    if (this.sparse !== undefined) return this.sparse.has(seq);
    return this.count > 0 && seq >= this.lo && seq <= this.hi && this.present[this.slot(seq)] === 1;
  }

  protected valueOf(seq: number): number | undefined {
    if (this.sparse !== undefined) return this.sparse.get(seq);
    if (this.count === 0 || seq < this.lo || seq > this.hi) return undefined;
    const slot = this.slot(seq);
    return this.present[slot] === 1 ? this.slotValues![slot] : undefined;
  }

  protected put(seq: number, value: number): void {
    if (this.sparse !== undefined) {
      this.sparse.set(seq, value);
      return;
    }
    if (this.count === 0) {
      if (this.present.length === 0) this.allocate(SLOTS_INITIAL);
      this.head = 0;
      this.lo = seq;
      this.hi = seq;
    } else if (seq < this.lo || seq > this.hi) {
      const lo = Math.min(this.lo, seq);
      const span = Math.max(this.hi, seq) - lo + 1;
      if (span > this.present.length && !this.grow(span)) {
        this.toSparse();
        this.sparse!.set(seq, value);
        return;
      }
      if (seq < this.lo) {
        this.head = (this.head - (this.lo - seq) + this.present.length) & this.mask;
        this.lo = seq;
      } else this.hi = seq;
    }
    const slot = this.slot(seq);
    if (this.present[slot] === 0) {
      this.present[slot] = 1;
      this.count++;
    }
    if (this.slotValues !== undefined) this.slotValues[slot] = value;
  }

  delete(seq: number): boolean {
    if (this.sparse !== undefined) {
      if (!this.sparse.delete(seq)) return false;
      if (this.sparse.size === 0) this.sparse = undefined;
      return true;
    }
    if (this.count === 0 || seq < this.lo || seq > this.hi) return false;
    const slot = this.slot(seq);
    if (this.present[slot] === 0) return false;
    this.present[slot] = 0;
    if (--this.count === 0) {
      if (this.present.length > SLOTS_KEPT_EMPTY_MAX) this.release();
      return true;
    }
    // The ends move to the nearest entries left: count > 0 bounds both scans.
    if (seq === this.lo) {
      do {
        this.head = (this.head + 1) & this.mask;
        this.lo++;
      } while (this.present[this.head] === 0);
    } else if (seq === this.hi) {
      do this.hi--;
      while (this.present[this.slot(this.hi)] === 0);
    }
    return true;
  }

  clear(): void {
    this.sparse = undefined;
    if (this.count === 0) return;
    this.count = 0;
    if (this.present.length > SLOTS_KEPT_EMPTY_MAX) this.release();
    else this.present.fill(0);
  }

  /** Held sequences, ascending. */
  *keys(): IterableIterator<number> {
    if (this.sparse !== undefined) {
      yield* [...this.sparse.keys()].sort((a, b) => a - b);
      return;
    }
    if (this.count === 0) return;
    // Read lo and hi once: a caller may delete what it is given.
    const lo = this.lo;
    const hi = this.hi;
    for (let seq = lo; seq <= hi; seq++) if (this.has(seq)) yield seq;
  }

  private slot(seq: number): number {
    return (this.head + (seq - this.lo)) & this.mask;
  }

  /** Widens the window to hold `span` sequences, unless it would be too sparse. */
  private grow(span: number): boolean {
    let slots = this.present.length;
    while (slots < span) slots *= 2;
    if (slots > SLOTS_DENSE_FREE && slots > SLOTS_PER_ENTRY_MAX * (this.count + 1)) return false;
    const present = this.present;
    const values = this.slotValues;
    const oldMask = this.mask;
    const oldHead = this.head;
    this.allocate(slots);
    for (let i = 0; i <= this.hi - this.lo; i++) {
      const from = (oldHead + i) & oldMask;
      this.present[i] = present[from]!;
      if (values !== undefined) this.slotValues![i] = values[from]!;
    }
    return true;
  }

  private allocate(slots: number): void {
    this.present = new Uint8Array(slots);
    if (this.slotValues !== undefined) this.slotValues = new Float64Array(slots);
    this.mask = slots - 1;
    this.head = 0;
  }

  private release(): void {
    this.present = NO_SLOTS;
    if (this.slotValues !== undefined) this.slotValues = NO_VALUES;
    this.mask = 0;
    this.head = 0;
  }

  private toSparse(): void {
    const sparse = new Map<number, number>();
    for (const seq of this.keys()) sparse.set(seq, this.slotValues === undefined ? 0 : this.slotValues[this.slot(seq)]!);
    this.count = 0;
    this.release();
    this.sparse = sparse;
  }
}

/** A set of sequences (see the file comment). */
export class SeqSet extends SeqWindow {
  constructor(seqs: Iterable<number> = []) {
    super(false);
    for (const seq of seqs) this.add(seq);
  }

  add(seq: number): this {
    this.put(seq, 0);
    return this;
  }

  values(): IterableIterator<number> {
    return this.keys();
  }

  [Symbol.iterator](): IterableIterator<number> {
    return this.keys();
  }
}

/** A map from sequence to a number (an expiration time, say); see the file comment. */
export class SeqMap extends SeqWindow {
  constructor(entries: Iterable<readonly [number, number]> = []) {
    super(true);
    for (const [seq, value] of entries) this.set(seq, value);
  }

  get(seq: number): number | undefined {
    return this.valueOf(seq);
  }

  set(seq: number, value: number): this {
    this.put(seq, value);
    return this;
  }

  *values(): IterableIterator<number> {
    for (const seq of this.keys()) yield this.valueOf(seq)!;
  }

  *entries(): IterableIterator<[number, number]> {
    for (const seq of this.keys()) yield [seq, this.valueOf(seq)!];
  }

  [Symbol.iterator](): IterableIterator<[number, number]> {
    return this.entries();
  }
}
