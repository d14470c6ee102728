// Proves which cipher encryption at rest uses when -encryption_cipher is not given: ChaCha20 when
// libsodium is loaded (the cheaper one here), otherwise the reference's choice (AES on x86,
// ChaCha20 elsewhere); a cipher given is always the one used, and only the key's hash leaves.
import { describe, expect, it } from 'vitest';
import { loadOptions } from '../../src/config/load.js';
import { encryptionOf } from '../../src/cli/wire-options.js';
import { masterKeyOf, sodiumChaCha } from '../../src/store/crypto/payload-cipher.js';

const options = (...flags: string[]) => loadOptions(['-encrypt', '-encryption_key', 'k', ...flags], {});

describe('the default encryption cipher', () => {
  it('is ChaCha20 where libsodium loaded, on any CPU', () => {
    expect(encryptionOf(options(), 'x64', true)?.cipher).toBe('CHACHA');
    expect(encryptionOf(options(), 'arm64', true)?.cipher).toBe('CHACHA');
  });

  it("is the reference's otherwise: AES on x86, ChaCha20 elsewhere", () => {
    expect(encryptionOf(options(), 'x64', false)?.cipher).toBe('AES');
    expect(encryptionOf(options(), 'ia32', false)?.cipher).toBe('AES');
    expect(encryptionOf(options(), 'arm64', false)?.cipher).toBe('CHACHA');
  });

  it('follows libsodium on this machine when not told', () => {
    const expected = sodiumChaCha() !== undefined || !['x64', 'ia32'].includes(process.arch) ? 'CHACHA' : 'AES';
    expect(encryptionOf(options())?.cipher).toBe(expected);
  });

  it('is never used when a cipher is given, and encryption off gives nothing', () => {
    for (const native of [true, false]) {
      expect(encryptionOf(options('-encryption_cipher', 'aes'), 'x64', native)?.cipher).toBe('AES');
      expect(encryptionOf(options('-encryption_cipher', 'CHACHA'), 'x64', native)?.cipher).toBe('CHACHA');
    }
    expect(encryptionOf(loadOptions([], {}))).toBeUndefined();
    const settings = encryptionOf(options())!;
    expect(settings.masterKey.export()).toEqual(masterKeyOf('k').export());
  });
});
