import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Write to this file instead of stdout (the `-l` flag). */
  file?: string;
  name?: string;
}

/** One root logger per server instance; components take `logger.child({ component })`. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.file
    ? pino.destination({ dest: options.file, sync: false, mkdir: true })
    : pino.destination({ dest: 1, sync: false });
  return pino({ level: options.level ?? 'info', name: options.name ?? 'tstan' }, destination);
}

/** A logger that writes nothing, for tests and the simulator. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
