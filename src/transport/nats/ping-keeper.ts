// Keeps a connection honest: a PING every interval, and the connection declared stale when too
// many go unanswered. Shared by client connections and routes.

export class PingKeeper {
  private outstanding = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly intervalMs: number,
    private readonly outstandingMax: number,
    private readonly sendPing: () => void,
    private readonly onStale: () => void,
  ) {}

  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** The peer answered: nothing is outstanding any more. */
  pong(): void {
    this.outstanding = 0;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    if (this.outstanding >= this.outstandingMax) {
      this.stop();
      this.onStale();
      return;
    }
    this.outstanding++;
    this.sendPing();
  }
}
