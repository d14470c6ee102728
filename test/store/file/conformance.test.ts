// Proves the FILE store meets the shared store contract: the conformance suite, including its
// recovery round trips, run against real files in a temporary directory.
import { FileStore } from '../../../src/store/file/file-store.js';
import { storeConformance } from '../conformance/suite.js';

storeConformance('FILE', (dir, options) => Promise.resolve(new FileStore({ ...options, dir })), { persistent: true });
