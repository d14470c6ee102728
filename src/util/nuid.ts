// Unique identifiers in the style of NATS NUIDs: a random prefix and an incrementing suffix in
// base 62, so most IDs cost a few character operations and no random bytes.
import { randomBytes, randomInt } from 'node:crypto';

const digits = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const prefixLength = 12;
const sequenceLength = 10;
const sequenceMax = 62 ** sequenceLength;

export class Nuid {
  private prefix = '';
  private sequence = 0;
  private increment = 0;

  constructor() {
    this.reset();
  }

  next(): string {
    this.sequence += this.increment;
    if (this.sequence >= sequenceMax) this.reset();
    let value = this.sequence;
    let suffix = '';
    for (let i = 0; i < sequenceLength; i++) {
      suffix = digits[value % 62]! + suffix;
      value = Math.floor(value / 62);
    }
    return this.prefix + suffix;
  }

  private reset(): void {
    const bytes = randomBytes(prefixLength);
    let prefix = '';
    for (const byte of bytes) prefix += digits[byte % 62]!;
    this.prefix = prefix;
    this.sequence = randomInt(0, 2 ** 40);
    this.increment = 33 + randomInt(0, 300);
  }
}

/** A server ID in nats-server's style: 56 upper-case characters starting with N. */
export function newServerId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = randomBytes(55);
  let id = 'N';
  for (const byte of bytes) id += alphabet[byte % 32]!;
  return id;
}
