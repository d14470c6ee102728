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
  /** Writes out what is buffered; call before exiting. */
  flush(): void;
}

/** One root logger per server instance; components take `logger.child({ component })`. */
export function createRootLogger(options: LoggerOptions = {}): RootLogger {
  const destination = options.file
    ? pino.destination({ dest: options.file, sync: false, mkdir: true })
    : pino.destination({ dest: 1, sync: false });
  const color = options.color ?? false;
  const stream: DestinationStream =
    options.format === 'text' ? { write: (line: string) => destination.write(formatLogLine(line, { color })) } : destination;
  const logger = pino({ level: options.level ?? 'info', name: options.name ?? 'tstan', timestamp: options.timestamps ?? true }, stream);
  return {
    logger,
    reopen: () => {
      if (options.file) destination.reopen();
    },
    flush: () => destination.flushSync(),
  };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return createRootLogger(options).logger;
}

/** A logger that writes nothing, for tests and the simulator. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
