import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { formatLogLine } from './log-text.js';

export type { Logger };

/** `json`: one pino JSON object per line (files, Kubernetes); `text`: nats-server-style lines. */
export type LogFormat = 'json' | 'text';

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Write to this file instead of stdout (the `-l` flag). */
  file?: string;
  /** Include a timestamp in each line (`-T`, on by default). */
  timestamps?: boolean;
  name?: string;
  /** Default `json`. The caller decides (the CLI picks `text` for a terminal). */
  format?: LogFormat;
  /** ANSI colours in `text` format. */
  color?: boolean;
}

export interface RootLogger {
  readonly logger: Logger;
  /** Reopens the log file (SIGUSR1, after a log rotation); a no-op on stdout. */
  reopen(): void;
  /**
   * Resolves once what was logged has been written, the destination failed, or `waitMs` passed:
   * call before exiting. A log reader that is gone (EPIPE) or stuck never keeps the process up.
   */
  flush(waitMs?: number): Promise<void>;
}

/** How long flush() waits at most for the last lines to be written. */
const FLUSH_WAIT_MS = 2_000;

/** One root logger per server instance; components take `logger.child({ component })`. */
export function createRootLogger(options: LoggerOptions = {}): RootLogger {
  const destination = options.file
    ? pino.destination({ dest: options.file, sync: false, mkdir: true })
    : pino.destination({ dest: 1, sync: false });
  const color = options.color ?? false;
  // What was handed to the destination and what it reports written: flush() waits for these to
  // meet. Not sonic-boom's flushSync, which retries a failing write forever (every error but
  // EAGAIN/EBUSY): a log pipe whose reader had exited made a stopping server hang.
  let queuedBytes = 0;
  let writtenBytes = 0;
  let failed = false;
  const waiters = new Set<() => void>();
  /** Nothing more will be written: all of it was, or the destination failed. */
  const settled = (): boolean => failed || writtenBytes >= queuedBytes;
  const settle = (): void => {
    if (settled()) for (const waiter of waiters) waiter();
  };
  destination.on('write', (bytes: number) => {
    writtenBytes += bytes;
    settle();
  });
  destination.on('error', (error: NodeJS.ErrnoException) => {
    if (failed) return;
    failed = true;
    // Logging stops; serving goes on. On EPIPE pino already made the destination's methods
    // no-ops; on any other error (a full disk) it is destroyed here, or pino's flushSync at exit
    // would retry the failing write forever.
    if (error.code !== 'EPIPE') {
      process.stderr.write(`tstan: writing the log failed, logging stops: ${error.message}\n`);
      destination.destroy();
    }
    settle();
  });
  const stream: DestinationStream = {
    write: (line: string) => {
      if (failed) return;
      const text = options.format === 'text' ? formatLogLine(line, { color }) : line;
      queuedBytes += Buffer.byteLength(text);
      destination.write(text);
    },
  };
  const logger = pino({ level: options.level ?? 'info', name: options.name ?? 'tstan', timestamp: options.timestamps ?? true }, stream);
  return {
    logger,
    reopen: () => {
      if (options.file) destination.reopen();
    },
    flush: (waitMs = FLUSH_WAIT_MS) =>
      new Promise<void>((resolve) => {
        if (settled()) {
          resolve();
          return;
        }
        const finish = (): void => {
          clearTimeout(timer);
          waiters.delete(finish);
          resolve();
        };
        const timer = setTimeout(finish, waitMs);
        waiters.add(finish);
      }),
  };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return createRootLogger(options).logger;
}

/** A logger that writes nothing, for tests and the simulator. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
