// Compares a secret a peer sent (a password, a token) with the configured one, which may be a
// bcrypt hash as nats-server allows. Plain secrets are compared in constant time; hashes with
// bcryptjs, loaded by prepare() only when a hash is configured, and asynchronously, so that a slow
// comparison never holds up other connections.
import { timingSafeEqual } from 'node:crypto';
import { isBcrypt } from './auth-settings.js';

type BcryptCompare = (secret: string, hash: string) => Promise<boolean>;

export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class SecretCheck {
  private compareHash: BcryptCompare | null = null;

  /** Loads bcryptjs when one of `configured` is a hash; start-up awaits it before serving. */
  async prepare(configured: readonly string[]): Promise<void> {
    if (this.compareHash !== null || !configured.some(isBcrypt)) return;
    const bcrypt = await import('bcryptjs');
    this.compareHash = (secret, hash) => bcrypt.compare(secret, hash).catch(() => false);
  }

  /** A verdict now for a plain secret; a Promise of one for a hash. */
  check(given: string, expected: string): boolean | Promise<boolean> {
    if (!isBcrypt(expected)) return sameSecret(given, expected);
    // Without prepare() no hash can match: refused, never let through.
    return this.compareHash === null ? false : this.compareHash(given, expected);
  }
}
