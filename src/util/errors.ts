// Operating errors carry a stable `code` so callers and tests branch on the code, never the text.
// Wire-level STAN errors are not these: they use the reference server's exact strings.

export class TstanError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TstanError';
    this.code = code;
  }
}

/** A configuration or command-line value is wrong; the message names the flag, key or file. */
export class ConfigError extends TstanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFIG_INVALID', message, options);
    this.name = 'ConfigError';
  }
}

/** Stored data failed a check (CRC, framing, continuity); the message names the file and offset. */
export class StoreCorruptError extends TstanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE_CORRUPT', message, options);
    this.name = 'StoreCorruptError';
  }
}

/** An invariant that must always hold was broken: the component stops rather than go on wrong. */
export class AssertionFailure extends TstanError {
  constructor(message: string) {
    super('ASSERTION_FAILED', message);
    this.name = 'AssertionFailure';
  }
}
