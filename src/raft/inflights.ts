// The bounded window of AppendEntries in flight to one follower: each slot remembers the last
// index the message carried and its bytes, freed when the follower acknowledges that index.
export class Inflights {
  private readonly lastIndexes: number[] = [];
  private readonly sizes: number[] = [];
  private bytes = 0;

  constructor(
    readonly messagesMax: number,
    readonly bytesMax: number,
  ) {}

  add(lastIndex: number, bytes: number): void {
    this.lastIndexes.push(lastIndex);
    this.sizes.push(bytes);
    this.bytes += bytes;
  }

  /** Free every slot whose last index is at or below `index`. */
  freeLE(index: number): void {
    let count = 0;
    while (count < this.lastIndexes.length && this.lastIndexes[count]! <= index) {
      this.bytes -= this.sizes[count]!;
      count++;
    }
    this.lastIndexes.splice(0, count);
    this.sizes.splice(0, count);
  }

  freeFirstOne(): void {
    const first = this.lastIndexes[0];
    if (first !== undefined) this.freeLE(first);
  }

  full(): boolean {
    return this.lastIndexes.length >= this.messagesMax || this.bytes >= this.bytesMax;
  }

  count(): number {
    return this.lastIndexes.length;
  }

  inflightBytes(): number {
    return this.bytes;
  }

  reset(): void {
    this.lastIndexes.length = 0;
    this.sizes.length = 0;
    this.bytes = 0;
  }
}
