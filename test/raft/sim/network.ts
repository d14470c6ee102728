// The simulated network: per-message delay (so reordering), loss and duplication, and blocked
// directed links for symmetric and asymmetric partitions.
import type { Message } from '../../../src/raft/messages.js';
import type { Rng } from './rng.js';

export class SimNetwork {
  private readonly blocked = new Set<string>();
  /** Nodes cut off from everyone until a time, independent of the partitions above. */
  private readonly isolatedUntil = new Map<string, number>();
  dropRate: number;
  duplicateRate: number;
  sent = 0;
  dropped = 0;
  duplicated = 0;

  constructor(
    private readonly rng: Rng,
    dropRate: number,
    duplicateRate: number,
    private readonly delayMinMs: number,
    private readonly delayMaxMs: number,
  ) {
    this.dropRate = dropRate;
    this.duplicateRate = duplicateRate;
  }

  block(from: string, to: string): void {
    this.blocked.add(`${from}>${to}`);
  }

  heal(): void {
    this.blocked.clear();
  }

  healAll(): void {
    this.blocked.clear();
    this.isolatedUntil.clear();
  }

  isolate(id: string, untilMs: number): void {
    this.isolatedUntil.set(id, untilMs);
  }

  isBlocked(from: string, to: string, nowMs: number): boolean {
    if ((this.isolatedUntil.get(from) ?? 0) > nowMs || (this.isolatedUntil.get(to) ?? 0) > nowMs) return true;
    return this.blocked.has(`${from}>${to}`);
  }

  /** Split the nodes in two groups that cannot talk to each other. */
  partition(ids: readonly string[]): string {
    const side = ids.filter(() => this.rng.chance(0.5));
    for (const a of ids) {
      for (const b of ids) if (side.includes(a) !== side.includes(b)) this.block(a, b);
    }
    return `partition [${side.join(',')}] | [${ids.filter((id) => !side.includes(id)).join(',')}]`;
  }

  /** One node hears nothing (deaf) or is heard by nobody (mute); or random one-way links. */
  asymmetric(ids: readonly string[]): string {
    const target = this.rng.pick(ids);
    const mode = this.rng.pick(['deaf', 'mute', 'links'] as const);
    for (const other of ids) {
      if (other === target) continue;
      if (mode === 'deaf') this.block(other, target);
      else if (mode === 'mute') this.block(target, other);
      else if (this.rng.chance(0.4)) this.block(target, other);
    }
    return `asymmetric ${mode} ${target}`;
  }

  /** Delays at which to deliver `message` (none if lost, two if duplicated). */
  deliveries(message: Message, nowMs: number): number[] {
    this.sent++;
    if (this.isBlocked(message.from, message.to, nowMs) || this.rng.chance(this.dropRate)) {
      this.dropped++;
      return [];
    }
    const delay = (): number => this.rng.between(this.delayMinMs, this.delayMaxMs);
    if (this.rng.chance(this.duplicateRate)) {
      this.duplicated++;
      return [delay(), delay()];
    }
    return [delay()];
  }
}
