// Warnings about input that is dropped, at most so many per window: a peer or a client that keeps
// sending bad data must not flood the log. What is held back is counted and reported with the
// next warning of a later window.
import type { Logger } from './logger.js';

export class RateLimitedWarnings {
  private windowStartMs = -Infinity;
  private warningsInWindow = 0;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly warningsPerWindow = 20,
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(message: string, fields: Record<string, unknown>): void {
    const now = this.now();
    if (now - this.windowStartMs >= this.windowMs) {
      this.windowStartMs = now;
      this.warningsInWindow = 0;
    }
    if (this.warningsInWindow >= this.warningsPerWindow) {
      this.suppressed++;
      return;
    }
    this.warningsInWindow++;
    if (this.suppressed > 0) {
      this.logger.warn({ ...fields, suppressedBefore: this.suppressed }, message);
      this.suppressed = 0;
    } else {
      this.logger.warn(fields, message);
    }
  }
}
