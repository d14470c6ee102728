// A small seeded generator (sfc32) so that a seed replays the same run byte for byte.
import type { RandomSource } from '../../../src/raft/options.js';

export class Rng implements RandomSource {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    const high = Math.floor(seed / 0x100000000) >>> 0;
    this.a ^= high;
    for (let i = 0; i < 16; i++) this.next32();
  }

  next32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** An integer in [0, maxExclusive). */
  nextInt(maxExclusive: number): number {
    return maxExclusive <= 1 ? 0 : this.next32() % maxExclusive;
  }

  /** An integer in [low, high]. */
  between(low: number, high: number): number {
    return low + this.nextInt(high - low + 1);
  }

  chance(probability: number): boolean {
    return this.next32() / 0x100000000 < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.nextInt(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** An independent generator derived from this one. */
  fork(): Rng {
    return new Rng(this.next32() * 0x1000 + this.nextInt(0x1000));
  }
}
