// The `--file_*` options of the reference server, typed, with its defaults.
import { ConfigError } from '../../util/errors.js';
import { CRC32_IEEE } from './crc32.js';

export interface FileStoreOptions {
  /** Compact clients.dat and subs.dat when worthwhile (`file_compact_enabled`). */
  readonly compactEnabled: boolean;
  /** Percentage of dead records that makes a file worth compacting (`file_compact_frag`). */
  readonly compactFragPercent: number;
  /** Minimum time between two compactions of one file (`file_compact_interval`, seconds). */
  readonly compactIntervalSec: number;
  /** Files below this size are never compacted (`file_compact_min_size`). */
  readonly compactMinSizeBytes: number;
  /** Bytes of writes gathered before they go to the file (`file_buffer_size`). */
  readonly bufferSizeBytes: number;
  /** Check CRC-32 of records when reading (`file_crc`). */
  readonly crc: boolean;
  /** Reflected CRC-32 polynomial (`file_crc_poly`); IEEE by default. */
  readonly crcPoly: number;
  /** fsync before a batch is reported complete (`file_sync`). */
  readonly sync: boolean;
  /** Messages per slice, 0 = unlimited (`file_slice_max_msgs`). */
  readonly sliceMaxMsgs: number;
  /** Bytes per slice including index, 0 = unlimited (`file_slice_max_bytes`). */
  readonly sliceMaxBytes: number;
  /** Age of a slice's first message before a new slice starts, 0 = unlimited (`file_slice_max_age`, ms). */
  readonly sliceMaxAgeMs: number;
  /** Script run with (channel, dat, idx) on each slice dropped by limits (`file_slice_archive_script`). */
  readonly sliceArchiveScript: string;
  /** Soft limit on open files, 0 = unlimited (`file_fds_limit`). */
  readonly fdsLimit: number;
  /** Channels recovered at once (`file_parallel_recovery`). */
  readonly parallelRecovery: number;
  /** Cut files at damage found during recovery instead of refusing to start (`file_truncate_bad_eof`). */
  readonly truncateBadEof: boolean;
  /**
   * Bytes of recent messages kept in memory for all channels together, as written to disk:
   * deliveries read them from there (not a reference option). 0 keeps none.
   */
  readonly cacheBytesMax: number;
}

export const DEFAULT_FILE_STORE_OPTIONS: FileStoreOptions = {
  compactEnabled: true,
  compactFragPercent: 50,
  compactIntervalSec: 300,
  compactMinSizeBytes: 1024 * 1024,
  bufferSizeBytes: 2 * 1024 * 1024,
  crc: true,
  crcPoly: CRC32_IEEE,
  sync: true,
  sliceMaxMsgs: 0,
  sliceMaxBytes: 64 * 1024 * 1024,
  sliceMaxAgeMs: 0,
  sliceArchiveScript: '',
  fdsLimit: 0,
  parallelRecovery: 1,
  truncateBadEof: false,
  cacheBytesMax: 8 * 1024 * 1024,
};

function nonNegativeInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ConfigError(`file store option ${name} must be a non-negative integer, got ${value}`);
  }
}

/** Defaults filled in and every value checked; a bad value is a ConfigError naming the option. */
export function resolveFileStoreOptions(partial: Partial<FileStoreOptions> = {}): FileStoreOptions {
  const options: FileStoreOptions = { ...DEFAULT_FILE_STORE_OPTIONS, ...partial };
  nonNegativeInteger('file_compact_interval', options.compactIntervalSec);
  nonNegativeInteger('file_compact_min_size', options.compactMinSizeBytes);
  nonNegativeInteger('file_buffer_size', options.bufferSizeBytes);
  nonNegativeInteger('file_slice_max_msgs', options.sliceMaxMsgs);
  nonNegativeInteger('file_slice_max_bytes', options.sliceMaxBytes);
  nonNegativeInteger('file_slice_max_age', options.sliceMaxAgeMs);
  nonNegativeInteger('file_fds_limit', options.fdsLimit);
  nonNegativeInteger('cacheBytesMax', options.cacheBytesMax);
  if (!Number.isInteger(options.compactFragPercent) || options.compactFragPercent < 0 || options.compactFragPercent > 100) {
    throw new ConfigError(`file store option file_compact_frag must be 0..100, got ${options.compactFragPercent}`);
  }
  if (!Number.isInteger(options.parallelRecovery) || options.parallelRecovery < 1) {
    throw new ConfigError(`file store option file_parallel_recovery must be at least 1, got ${options.parallelRecovery}`);
  }
  if (!Number.isInteger(options.crcPoly) || options.crcPoly <= 0 || options.crcPoly > 0xffffffff) {
    throw new ConfigError(`file store option file_crc_poly must be a 32-bit polynomial, got ${options.crcPoly}`);
  }
  return options;
}
