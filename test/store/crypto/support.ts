// Helpers for running store tests with encryption at rest on: wrap any store, and the byte size a
// message counts for once its payload is sealed.
import { EncryptedStore } from '../../../src/store/crypto/encrypted-store.js';
import { masterKeyOf, SEALED_OVERHEAD_BYTES, type CipherName } from '../../../src/store/crypto/payload-cipher.js';
import { msgProtoSize, type MsgProto } from '../../../src/store/records.js';
import type { Store } from '../../../src/store/types.js';

export const TEST_KEY = 'testkey';

export function encrypted(store: Store, cipher: CipherName = 'AES', key = TEST_KEY): EncryptedStore {
  return new EncryptedStore(store, { cipher, masterKey: masterKeyOf(key) });
}

export function sealedSize(m: MsgProto): number {
  const length = m.data.length === 0 ? 0 : m.data.length + SEALED_OVERHEAD_BYTES;
  return msgProtoSize({ ...m, data: Buffer.alloc(length) });
}
