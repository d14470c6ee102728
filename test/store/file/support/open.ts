// Opens FILE stores for the tests: a silent (or capturing) logger, a settable clock, any FileIo.
import { pino } from 'pino';
import { FileStore } from '../../../../src/store/file/file-store.js';
import type { FileIo } from '../../../../src/store/file/io.js';
import type { FileStoreOptions } from '../../../../src/store/file/options.js';
import { defaultStoreLimits } from '../../../../src/store/limits.js';
import type { MsgProto, StoreLimits } from '../../../../src/store/types.js';
import { emptyMsgProto } from '../../../../src/store/records.js';

export interface TestClock {
  nowNs(): bigint;
  set(ns: bigint): void;
}

export function testClock(start = 1_700_000_000_000_000_000n): TestClock {
  let now = start;
  return { nowNs: () => now, set: (ns) => (now = ns) };
}

export interface Warnings {
  readonly lines: Array<Record<string, unknown>>;
}

/** A pino logger whose warn-and-above lines land in `warnings.lines`. */
export function capturingLogger(): { logger: pino.Logger; warnings: Warnings } {
  const warnings: Warnings = { lines: [] };
  const logger = pino(
    { level: 'warn' },
    { write: (line: string) => warnings.lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, warnings };
}

export interface OpenOptions {
  io?: FileIo;
  file?: Partial<FileStoreOptions>;
  limits?: StoreLimits;
  clock?: TestClock;
  logger?: pino.Logger;
}

export function openStore(dir: string, options: OpenOptions = {}): FileStore {
  return new FileStore({
    dir,
    ...(options.io !== undefined ? { io: options.io } : {}),
    ...(options.file !== undefined ? { file: options.file } : {}),
    limits: options.limits ?? defaultStoreLimits(),
    clock: options.clock ?? testClock(),
    logger: options.logger ?? pino({ level: 'silent' }),
  });
}

/** The ServerInfo every store test records; one definition for the conformance suite and these tests. */
export { serverInfo } from '../../conformance/harness.js';

export function message(channel: string, text: string, timestamp: bigint, sequence = 0): MsgProto {
  return { ...emptyMsgProto(), sequence, subject: channel, data: Buffer.from(text), timestamp };
}
