// Errors of the FILE store beyond the shared StoreCorruptError: each has a stable code.
import { TstanError } from '../../util/errors.js';

/** Another live process (or another store in this one) holds the data directory's lock. */
export class StoreLockedError extends TstanError {
  constructor(message: string) {
    super('STORE_LOCKED', message);
    this.name = 'StoreLockedError';
  }
}

/** A file-store operation failed on the disk (write, fsync); the store refuses further writes. */
export class StoreIoError extends TstanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE_IO', message, options);
    this.name = 'StoreIoError';
  }
}
