// The FILE store's options (`--file_*` flags, the `file {}` block of `-sc`), with the reference's
// defaults and aliases.

import type { FileStoreOptions } from './options.js';
import { asBool, asNumber, asString, conf, option, OptionGroup, type OptionSpec, type ValueKind } from './option-spec.js';

type Field = keyof FileStoreOptions;

interface FileOptionRow {
  readonly flag: string;
  readonly keys: readonly string[];
  readonly kind: ValueKind;
  readonly field: Field;
  readonly defaultValue: number | boolean | string;
  readonly defaultText?: string;
  readonly usage: string;
}

const rows: readonly FileOptionRow[] = [
  { flag: 'file_compact_enabled', keys: ['compact', 'compact_enabled'], kind: 'bool', field: 'compactEnabled',
    defaultValue: true, usage: 'Compact files that hold mostly deleted records' },
  { flag: 'file_compact_frag', keys: ['compact_frag', 'compact_fragmentation'], kind: 'int',
    field: 'compactFragmentationPercent', defaultValue: 50, usage: 'Fragmentation percentage that triggers compaction' },
  { flag: 'file_compact_interval', keys: ['compact_interval'], kind: 'int', field: 'compactIntervalSeconds',
    defaultValue: 300, usage: 'Minimum seconds between two compactions' },
  { flag: 'file_compact_min_size', keys: ['compact_min_size'], kind: 'size', field: 'compactMinFileBytes',
    defaultValue: 1024 * 1024, defaultText: '1MB', usage: 'Files smaller than this are not compacted' },
  { flag: 'file_buffer_size', keys: ['buffer_size'], kind: 'size', field: 'bufferBytes', defaultValue: 2 * 1024 * 1024,
    defaultText: '2MB', usage: 'Write buffer size' },
  { flag: 'file_crc', keys: ['crc', 'do_crc'], kind: 'bool', field: 'crcEnabled', defaultValue: true,
    usage: 'Check the CRC-32 of records when reading them' },
  { flag: 'file_crc_poly', keys: ['crc_poly'], kind: 'int', field: 'crcPolynomial', defaultValue: 0xedb88320,
    usage: 'Polynomial of the CRC-32 table' },
  { flag: 'file_sync', keys: ['sync', 'do_sync', 'sync_on_flush'], kind: 'bool', field: 'syncOnFlush',
    defaultValue: true, usage: 'fsync on every flush' },
  { flag: 'file_slice_max_msgs', keys: ['slice_max_msgs', 'slice_max_count', 'slice_msgs', 'slice_count'], kind: 'int',
    field: 'sliceMaxMsgs', defaultValue: 0, usage: 'Maximum messages per file slice (0 for unlimited)' },
  { flag: 'file_slice_max_bytes', keys: ['slice_max_bytes', 'slice_max_size', 'slice_bytes', 'slice_size'],
    kind: 'size', field: 'sliceMaxBytes', defaultValue: 64 * 1024 * 1024, defaultText: '64MB',
    usage: 'Maximum size of a file slice, index included' },
  { flag: 'file_slice_max_age', keys: ['slice_max_age', 'slice_age', 'slice_max_time', 'slice_time_limit'],
    kind: 'duration', field: 'sliceMaxAgeMs', defaultValue: 0, defaultText: '0s',
    usage: 'Maximum time span of a file slice, from its first message' },
  { flag: 'file_slice_archive_script', keys: ['slice_archive_script', 'slice_archive', 'slice_script'],
    kind: 'string', field: 'sliceArchiveScript', defaultValue: '', usage: 'Script run on a slice before it is removed' },
  { flag: 'file_fds_limit', keys: ['file_descriptors_limit', 'fds_limit'], kind: 'int', field: 'fileDescriptorsMax',
    defaultValue: 0, usage: 'File descriptors the store tries to stay under (0 for no limit)' },
  { flag: 'file_parallel_recovery', keys: ['parallel_recovery'], kind: 'int', field: 'parallelRecovery',
    defaultValue: 1, usage: 'Channels recovered in parallel at start-up' },
  { flag: 'file_truncate_bad_eof', keys: [], kind: 'bool', field: 'truncateBadEof', defaultValue: false,
    usage: 'Cut files at a damaged record on recovery (data after it is lost)' },
  { flag: 'file_read_buffer_size', keys: ['file_read_buffer_size', 'read_buffer_size'], kind: 'size',
    field: 'readBufferBytes', defaultValue: 2 * 1024 * 1024, defaultText: '2MB',
    usage: 'Read-ahead buffer size (0 to disable)' },
  { flag: 'file_auto_sync', keys: ['file_auto_sync', 'auto_sync'], kind: 'duration', field: 'autoSyncIntervalMs',
    defaultValue: 60_000, defaultText: '1m', usage: 'Interval of the background flush and fsync (0 or less to disable)' },
];

export const fileStoreOptions: readonly OptionSpec[] = rows.map((row) => option({
  id: `file.${row.flag.slice(5)}`,
  group: OptionGroup.fileStore,
  flags: [row.flag],
  conf: row.keys.length === 0 ? [] : [conf('streaming.file', ...row.keys)],
  kind: row.kind,
  defaultValue: row.defaultValue,
  ...(row.defaultText === undefined ? {} : { defaultText: row.defaultText }),
  usage: row.usage,
  apply: (d, v) => {
    const target = d.fileStore as Record<Field, number | boolean | string>;
    target[row.field] = row.kind === 'bool' ? asBool(v) : row.kind === 'string' ? asString(v) : asNumber(v);
  },
}));
