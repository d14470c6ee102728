// What recovery does with the end of a scan: a torn tail is cut with a warning, damage stops
// start-up with a StoreCorruptError naming file and offset, or is cut when truncateBadEof asks.
import type { Logger } from '../../util/logger.js';
import { StoreCorruptError } from '../../util/errors.js';
import type { FileHandle } from './io.js';
import type { ScanEnd } from './scan.js';

export interface RecoveryContext {
  readonly logger: Logger;
  readonly truncateBadEof: boolean;
}

export function corrupt(path: string, offset: number, reason: string): StoreCorruptError {
  return new StoreCorruptError(`${path}: ${reason} at offset ${offset}`);
}

/** Applies the scan's verdict to `file`; returns true when the file was cut. */
export function settleEnd(file: FileHandle, goodEnd: number, end: ScanEnd, context: RecoveryContext): boolean {
  switch (end.kind) {
    case 'clean':
      return false;
    case 'torn':
      context.logger.warn({ file: file.path, offset: end.offset, reason: end.reason }, 'cutting torn record at end of file');
      file.truncate(goodEnd);
      return true;
    case 'corrupt':
      if (!context.truncateBadEof) throw corrupt(file.path, end.offset, end.reason);
      context.logger.warn(
        { file: file.path, offset: end.offset, reason: end.reason },
        'truncate_bad_eof: cutting file at damaged record (data after it is lost)',
      );
      file.truncate(goodEnd);
      return true;
  }
}
