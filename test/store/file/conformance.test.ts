// Proves the FILE store meets the shared store contract: the conformance suite, including its
// recovery round trips, run against real files in a temporary directory, in clear and with
// encryption at rest (AES and ChaCha20, whose sealed payloads count in the byte totals).
import { FileStore } from '../../../src/store/file/file-store.js';
import { storeConformance } from '../conformance/suite.js';
import { encrypted, sealedSize } from '../crypto/support.js';

storeConformance('FILE', (dir, options) => Promise.resolve(new FileStore({ ...options, dir })), { persistent: true });
storeConformance('FILE encrypted (AES)', (dir, options) => Promise.resolve(encrypted(new FileStore({ ...options, dir }), 'AES')), {
  persistent: true,
  storedSize: sealedSize,
});
storeConformance('FILE encrypted (CHACHA)', (dir, options) => Promise.resolve(encrypted(new FileStore({ ...options, dir }), 'CHACHA')), {
  persistent: true,
  storedSize: sealedSize,
});
