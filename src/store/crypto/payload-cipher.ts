// The sealed-payload format of the reference server's encrypted stores, so that a data directory
// encrypted by either server opens in the other. Only a message's `data` is sealed:
//
//   sealed = cipher code u8 (1 AES-256-GCM, 2 ChaCha20-Poly1305) | nonce (12 bytes) | ciphertext | tag (16)
//
// Keys: the master key is SHA-256 of the user's key; a channel's key is SHA-256 of
// (32 + 1 + len(channel)) zero bytes, the master key, '.', the channel name. The zero bytes are
// an accident of how the reference builds that buffer, kept because existing stores depend on it.
// No associated data. Nonces: 4 random bytes then a 64-bit big-endian counter starting at the
// channel's last sequence + 1; the whole 96 bits count up by one per sealed payload, so a nonce is
// never reused within a run and a restart starts past every counter of the run before.
// Data whose first byte is neither code is not sealed (an unencrypted store, an empty payload)
// and is returned as it is, as the reference does, so a store may mix both.
//
// Engines: ChaCha20-Poly1305 goes through libsodium (the sodium-native package, prebuilt for the
// usual platforms) when it loads: one call per payload, about 0.7 µs for 128 bytes against 3.5 µs
// and a cipher object of garbage per payload in node:crypto, which has no way to reuse a cipher
// object with a new nonce. sodium-native has no AES-GCM, so AES-256-GCM is always node:crypto's,
// and node:crypto is the ChaCha20 fallback where sodium-native is not installed or does not load.
// Both produce the same bytes (the same standard construction; test/store/crypto checks it).
import { createCipheriv, createDecipheriv, createHash, createSecretKey, randomFillSync, type CipherGCM, type DecipherGCM, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';

export const CipherName = { aes: 'AES', chacha: 'CHACHA' } as const;
export type CipherName = (typeof CipherName)[keyof typeof CipherName];

const CipherCode = { AES: 1, CHACHA: 2 } as const;
type CipherCode = (typeof CipherCode)[keyof typeof CipherCode];

export const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const COUNTER_BYTES = 8;
/** What sealing adds to a payload: code, nonce and tag. */
export const SEALED_OVERHEAD_BYTES = 1 + NONCE_BYTES + TAG_BYTES;

// Both AEADs have the same shape in node:crypto (12-byte nonce, 16-byte tag, setAAD, auth tag).
function cipherFor(code: CipherCode, key: KeyObject, nonce: Buffer): CipherGCM {
  if (code === CipherCode.AES) return createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  return createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES }) as unknown as CipherGCM;
}

function decipherFor(code: CipherCode, key: KeyObject, nonce: Uint8Array): DecipherGCM {
  if (code === CipherCode.AES) return createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  return createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES }) as unknown as DecipherGCM;
}

/** What a node encrypts with: the cipher it seals with, and the master key (never the user's key). */
export interface EncryptionSettings {
  readonly cipher: CipherName;
  /** SHA-256 of the user's key (masterKeyOf), as a KeyObject: it prints and serialises as nothing. */
  readonly masterKey: KeyObject;
}

/** A sealed payload failed to open: wrong key, or the bytes were changed. */
export class PayloadOpenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PayloadOpenError';
  }
}

/** The libsodium calls used, as sodium-native exports them. */
interface SodiumChaCha {
  crypto_aead_chacha20poly1305_ietf_encrypt(c: Uint8Array, m: Uint8Array, ad: Uint8Array | null, nsec: null, npub: Uint8Array, k: Uint8Array): number;
  crypto_aead_chacha20poly1305_ietf_decrypt(m: Uint8Array, nsec: null, c: Uint8Array, ad: Uint8Array | null, npub: Uint8Array, k: Uint8Array): number;
}

/** Which implementation seals and opens ChaCha20-Poly1305: `auto` is libsodium when it loads. */
export type CipherEngine = 'auto' | 'node';

let sodiumLoaded: SodiumChaCha | null | undefined;

/** sodium-native, loaded once on first use; undefined when it is missing or does not load. */
export function sodiumChaCha(): SodiumChaCha | undefined {
  if (sodiumLoaded === undefined) {
    sodiumLoaded = null;
    try {
      const sodium = createRequire(import.meta.url)('sodium-native') as Partial<SodiumChaCha>;
      if (typeof sodium.crypto_aead_chacha20poly1305_ietf_encrypt === 'function' && typeof sodium.crypto_aead_chacha20poly1305_ietf_decrypt === 'function') {
        sodiumLoaded = sodium as SodiumChaCha;
      }
    } catch {
      // not installed, or no prebuilt add-on for this platform: node:crypto does it all
    }
  }
  return sodiumLoaded ?? undefined;
}

/** Parses `-encryption_cipher` (any case); throws on anything but AES or CHACHA. */
export function cipherNameOf(text: string): CipherName {
  const upper = text.toUpperCase();
  if (upper === CipherName.aes || upper === CipherName.chacha) return upper;
  throw new Error('encryption cipher not supported');
}

/** SHA-256 of the user's key: the only form in which the stores and the Raft log get a key. */
export function masterKeyOf(userKey: string | Uint8Array): KeyObject {
  const digest = createHash('sha256').update(userKey).digest();
  const key = createSecretKey(digest);
  digest.fill(0);
  return key;
}

/** A channel's key, derived as the reference derives it (zero prefix included). */
export function channelKeyOf(masterKey: KeyObject, channel: string): KeyObject {
  const master = masterKey.export();
  const name = Buffer.from(channel, 'utf8');
  const material = Buffer.alloc(2 * (master.length + 1 + name.length));
  let position = master.length + 1 + name.length;
  position += master.copy(material, position);
  master.fill(0);
  material[position++] = 0x2e; // '.'
  name.copy(material, position);
  const digest = createHash('sha256').update(material).digest();
  material.fill(0);
  const key = createSecretKey(digest);
  digest.fill(0);
  return key;
}

/** True when `data` starts with a cipher code, i.e. is meant to be opened. */
export function looksSealed(data: Uint8Array): boolean {
  return data.length > 0 && (data[0] === CipherCode.AES || data[0] === CipherCode.CHACHA);
}

/**
 * Seals and opens payloads under one 32-byte key. Sealing uses the chosen cipher; opening uses
 * whichever the payload's first byte names, so a change of cipher keeps old data readable.
 */
export class PayloadCipher {
  private readonly code: CipherCode;
  private readonly nonce = Buffer.alloc(NONCE_BYTES);
  /** A KeyObject: node:crypto then skips importing raw key bytes on every seal. */
  private readonly key: KeyObject;
  /** libsodium's ChaCha20-Poly1305 when it loaded (and the engine is `auto`). */
  private readonly sodium: SodiumChaCha | undefined;
  /** The key's bytes for libsodium, exported on first use; a private field, so nothing prints it. */
  #rawKey: Buffer | undefined;

  /**
   * `firstCounter` is the channel's (or log's) last sequence + 1. `random` fills the 4 leading
   * nonce bytes; tests pass a fixed one to reproduce a vector. `engine` `node` keeps libsodium
   * out (tests of the fallback).
   */
  constructor(
    cipher: CipherName,
    key: KeyObject,
    firstCounter: number,
    random: (target: Buffer) => void = (target) => void randomFillSync(target),
    engine: CipherEngine = 'auto',
  ) {
    if (key.symmetricKeySize !== KEY_BYTES) throw new Error(`an encryption key must be ${KEY_BYTES} bytes`);
    this.key = key;
    this.code = CipherCode[cipher];
    this.sodium = engine === 'auto' ? sodiumChaCha() : undefined;
    random(this.nonce);
    writeCounter(this.nonce, firstCounter);
  }

  /** True when ChaCha20-Poly1305 goes through libsodium here. */
  get native(): boolean {
    return this.sodium !== undefined;
  }

  /** code | nonce | ciphertext | tag; the nonce then counts up by one. */
  seal(plain: Uint8Array, associated?: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(SEALED_OVERHEAD_BYTES + plain.length);
    out[0] = this.code;
    this.nonce.copy(out, 1);
    if (this.code === CipherCode.CHACHA && this.sodium !== undefined) {
      // ciphertext and tag in one call, written straight into `out`
      this.sodium.crypto_aead_chacha20poly1305_ietf_encrypt(out.subarray(1 + NONCE_BYTES), plain, associated ?? null, null, this.nonce, this.rawKey());
    } else {
      const cipher = cipherFor(this.code, this.key, this.nonce);
      if (associated !== undefined) cipher.setAAD(associated, { plaintextLength: plain.length });
      let position = 1 + NONCE_BYTES;
      position += cipher.update(plain).copy(out, position);
      position += cipher.final().copy(out, position);
      cipher.getAuthTag().copy(out, position);
    }
    incrementNonce(this.nonce);
    return out;
  }

  /** The plaintext of a sealed payload; anything not sealed comes back as it is. */
  open(data: Uint8Array, associated?: Uint8Array): Uint8Array {
    if (!looksSealed(data)) return data;
    if (data.length < SEALED_OVERHEAD_BYTES) {
      throw new PayloadOpenError(`sealed payload of ${data.length} bytes is too short`);
    }
    const code = data[0] as CipherCode;
    const nonce = data.subarray(1, 1 + NONCE_BYTES);
    const tagAt = data.length - TAG_BYTES;
    try {
      if (code === CipherCode.CHACHA && this.sodium !== undefined) {
        const plain = Buffer.allocUnsafe(tagAt - 1 - NONCE_BYTES);
        this.sodium.crypto_aead_chacha20poly1305_ietf_decrypt(plain, null, data.subarray(1 + NONCE_BYTES), associated ?? null, nonce, this.rawKey());
        return plain;
      }
      const decipher = decipherFor(code, this.key, nonce);
      decipher.setAuthTag(data.subarray(tagAt));
      if (associated !== undefined) decipher.setAAD(associated, { plaintextLength: tagAt - 1 - NONCE_BYTES });
      const head = decipher.update(data.subarray(1 + NONCE_BYTES, tagAt));
      const tail = decipher.final();
      return tail.length === 0 ? head : Buffer.concat([head, tail]);
    } catch (cause) {
      throw new PayloadOpenError('authentication failed', { cause });
    }
  }

  private rawKey(): Buffer {
    // export() gives a buffer of its own (not a slice of the shared pool)
    this.#rawKey ??= this.key.export();
    return this.#rawKey;
  }
}

function writeCounter(nonce: Buffer, counter: number): void {
  const at = NONCE_BYTES - COUNTER_BYTES;
  nonce.writeUInt32BE(Math.floor(counter / 0x1_0000_0000) >>> 0, at);
  nonce.writeUInt32BE(counter >>> 0, at + 4);
}

/** Adds one to the nonce read as a 96-bit big-endian number. */
function incrementNonce(nonce: Buffer): void {
  for (let i = NONCE_BYTES - 1; i >= 0; i--) {
    nonce[i] = (nonce[i]! + 1) & 0xff;
    if (nonce[i] !== 0) return;
  }
}
