// Proves the sealed-payload format is the reference server's: fixed vectors printed by
// fixtures/reference-vector.py (Python's `cryptography`, written from the reference's Go code)
// are what tstan seals with the same nonce, and open to the plaintext; what tstan seals opens
// in that script (when Python is there); a wrong key or any
// changed byte of a sealed payload fails to open instead of giving garbage. ChaCha20-Poly1305
// runs through libsodium (sodium-native) and through node:crypto (the fallback): every check runs
// on both, and the two give the same bytes for random payloads and associated data.
import { spawnSync } from 'node:child_process';
import { inspect } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { skipWithout } from '../../support/test-deps.js';
import {
  channelKeyOf,
  cipherNameOf,
  looksSealed,
  masterKeyOf,
  PayloadCipher,
  PayloadOpenError,
  SEALED_OVERHEAD_BYTES,
  sodiumChaCha,
  type CipherEngine,
  type CipherName,
} from '../../../src/store/crypto/payload-cipher.js';

const CHANNEL_KEY_HEX = 'f7adfb33c7099549cbe4914b815ee420108607adf04d79e2d4d3fefc65becc81';
const RANDOM_PREFIX = Buffer.from('a1b2c3d4', 'hex');
const FIRST_COUNTER = 42;
const VECTORS: Record<CipherName, Array<[string, string]>> = {
  AES: [
    ['msg0', '01a1b2c3d4000000000000002a1fcaec63d1550cc2cae08cb298ac883452f236cb'],
    ['hello, encrypted world', '01a1b2c3d4000000000000002b618c6ecb063c4e6bbf779d36cffd66c468893b22e23286c3493b5102d7526737433971851ad1'],
  ],
  CHACHA: [
    ['msg0', '02a1b2c3d4000000000000002ae81626fa7f76f273654986429b89f6fc80ab7be1'],
    ['hello, encrypted world', '02a1b2c3d4000000000000002b444e91d41319453e9111f74402511c093fdf6895cacb3e3e78a41cba4bd6adf6b74eb3fbcaa7'],
  ],
};

const ENGINES: CipherEngine[] = ['auto', 'node'];

function fixedCipher(name: CipherName, key = 'testkey', engine: CipherEngine = 'auto'): PayloadCipher {
  return new PayloadCipher(name, channelKeyOf(masterKeyOf(key), 'foo'), FIRST_COUNTER, (target) => void RANDOM_PREFIX.copy(target), engine);
}

describe('sealed payloads in the reference format', () => {
  it('derives the channel key with the reference zero prefix', () => {
    expect(channelKeyOf(masterKeyOf('testkey'), 'foo').export().toString('hex')).toBe(CHANNEL_KEY_HEX);
  });

  for (const name of ['AES', 'CHACHA'] as const) {
    for (const engine of ENGINES) {
      const label = `${name} (${engine === 'auto' ? 'libsodium for ChaCha20' : 'node:crypto only'})`;

      it(`${label}: seals byte for byte as the reference, nonce counting up per payload`, () => {
        const cipher = fixedCipher(name, 'testkey', engine);
        for (const [plain, sealed] of VECTORS[name]) expect(cipher.seal(Buffer.from(plain)).toString('hex')).toBe(sealed);
      });

      it(`${label}: opens the reference's sealed payloads, whatever cipher this side seals with`, () => {
        for (const opener of [fixedCipher('AES', 'testkey', engine), fixedCipher('CHACHA', 'testkey', engine)]) {
          for (const [plain, sealed] of VECTORS[name]) expect(Buffer.from(opener.open(Buffer.from(sealed, 'hex'))).toString()).toBe(plain);
        }
      });

      it(`${label}: a wrong key fails to open`, () => {
        const [, sealed] = VECTORS[name][0]!;
        expect(() => fixedCipher(name, 'wrongkey', engine).open(Buffer.from(sealed, 'hex'))).toThrow(PayloadOpenError);
      });

      it(`${label}: every bit flip after the cipher code fails to open`, () => {
        const sealed = Buffer.from(VECTORS[name][1]![1], 'hex');
        const cipher = fixedCipher(name, 'testkey', engine);
        for (let bit = 8; bit < sealed.length * 8; bit++) {
          const damaged = Buffer.from(sealed);
          damaged[bit >> 3]! ^= 1 << (bit & 7);
          expect(() => cipher.open(damaged), `bit ${bit}`).toThrow(PayloadOpenError);
        }
      });
    }
  }

  it('loads libsodium (sodium-native) for ChaCha20-Poly1305 on this platform', () => {
    expect(sodiumChaCha()).toBeDefined();
    expect(fixedCipher('CHACHA').native).toBe(true);
    expect(fixedCipher('CHACHA', 'testkey', 'node').native).toBe(false);
  });

  it('libsodium and node:crypto seal the same bytes and open each other, with and without associated data', () => {
    const key = channelKeyOf(masterKeyOf('cross-check'), 'orders');
    const fixed = (target: Buffer): void => void Buffer.from('0badf00d', 'hex').copy(target);
    const native = new PayloadCipher('CHACHA', key, 2 ** 32 - 3, fixed, 'auto');
    const fallback = new PayloadCipher('CHACHA', key, 2 ** 32 - 3, fixed, 'node');
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) >>> 0);
    for (let i = 0; i < 300; i++) {
      const plain = Buffer.alloc(i < 20 ? i : next() % 5000, 0).map(() => next() & 0xff);
      const associated = i % 3 === 0 ? undefined : Buffer.alloc(next() % 40).map(() => next() & 0xff);
      const a = native.seal(plain, associated);
      const b = fallback.seal(plain, associated);
      expect(a.equals(b), `payload ${i} of ${plain.length} bytes`).toBe(true);
      expect(Buffer.from(native.open(b, associated)).equals(plain)).toBe(true);
      expect(Buffer.from(fallback.open(a, associated)).equals(plain)).toBe(true);
      if (associated !== undefined) {
        const other = Buffer.concat([associated, Buffer.from([1])]);
        expect(() => native.open(a, other)).toThrow(PayloadOpenError);
      }
    }
  });

  it('does not print the key bytes libsodium is given', () => {
    const key = channelKeyOf(masterKeyOf('testkey'), 'foo');
    const cipher = new PayloadCipher('CHACHA', key, 1);
    cipher.seal(Buffer.from('x'));
    const bytes = key.export();
    const shown = [inspect(cipher, { depth: 5, showHidden: true }), JSON.stringify(cipher)];
    for (const text of shown) {
      expect(text).not.toContain(bytes.toString('hex').slice(0, 8));
      expect(text).not.toContain(inspect(bytes).slice(8, 19)); // '<Buffer f7 ad fb 33 ...>'
    }
  });

  const pythonOpener = fileURLToPath(new URL('./fixtures/reference-vector.py', import.meta.url));
  it.skipIf(skipWithout('python-cryptography'))('what tstan seals opens in the independent implementation (both ciphers)', () => {
    const plains = ['written by tstan', 'ünïcode channel payload', 'x'.repeat(1000)];
    for (const name of ['AES', 'CHACHA'] as const) {
      const cipher = new PayloadCipher(name, channelKeyOf(masterKeyOf('my key'), 'orders.eu'), 1234);
      const sealed = plains.map((p) => cipher.seal(Buffer.from(p)).toString('hex'));
      const run = spawnSync('python3', [pythonOpener, 'open', 'my key', 'orders.eu', ...sealed], { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout.trim().split('\n').map((hex) => Buffer.from(hex, 'hex').toString())).toEqual(plains);
    }
  });

  it('passes through what is not sealed (unencrypted stores, empty payloads), as the reference does', () => {
    const cipher = fixedCipher('AES');
    for (const data of [Buffer.alloc(0), Buffer.from('plain text'), Buffer.from([0, 1, 2])]) {
      expect(looksSealed(data)).toBe(false);
      expect(cipher.open(data)).toBe(data);
    }
    expect(() => cipher.open(Buffer.from([1, 2, 3]))).toThrow(/too short/);
    expect(SEALED_OVERHEAD_BYTES).toBe(29);
  });

  it('nonces never repeat within a run and start at the counter given', () => {
    const cipher = new PayloadCipher('AES', masterKeyOf('k'), 2 ** 40 + 7);
    const nonces = new Set<string>();
    for (let i = 0; i < 1000; i++) nonces.add(cipher.seal(Buffer.from('x')).subarray(1, 13).toString('hex'));
    expect(nonces.size).toBe(1000);
    expect([...nonces][0]!.slice(8)).toBe((2 ** 40 + 7).toString(16).padStart(16, '0'));
  });

  it('keeps keys as KeyObjects, which print and serialise without their bytes', () => {
    const master = masterKeyOf('testkey');
    expect(JSON.stringify({ master })).toBe('{"master":{}}');
    expect(String(master)).not.toContain(master.export().toString('hex'));
  });

  it('accepts the cipher names in any case, and nothing else', () => {
    expect(cipherNameOf('aes')).toBe('AES');
    expect(cipherNameOf('ChaCha')).toBe('CHACHA');
    expect(() => cipherNameOf('DES')).toThrow('encryption cipher not supported');
  });
});
