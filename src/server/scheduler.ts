// Clock and timers of the serving runtime, injected so that the server can run under a simulated
// clock. Only leader-side runtime uses them (ack timers, heartbeats, expirations, delivery
// passes); replicated state never reads them: what the leader decides from the clock travels in
// the operation it proposes.

/** An opaque handle of a pending timeout. */
export type TimerHandle = object;

export interface Scheduler {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Runs `callback` on a later turn of the event loop, after I/O already queued. */
  setImmediate(callback: () => void): void;
}

export const systemScheduler: Scheduler = Object.freeze({
  nowMs: () => Date.now(),
  setTimeout: (callback: () => void, delayMs: number): TimerHandle => setTimeout(callback, delayMs),
  clearTimeout: (handle: TimerHandle): void => clearTimeout(handle as NodeJS.Timeout),
  setImmediate: (callback: () => void): void => {
    setImmediate(callback);
  },
});
