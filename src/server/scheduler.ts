// Clock and timers of the serving runtime, injected so that the server can run under a simulated
// clock. Only leader-side runtime uses them (ack timers, heartbeats, expirations, delivery
// passes); replicated state never reads them: what the leader decides from the clock travels in
// the operation it proposes.

/** An opaque handle of a pending timeout. */
export type TimerHandle = object;

export interface Scheduler {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
  /**
   * The clock as read once per task (one event-loop callback and the microtasks it queued), for
   * deadlines a few milliseconds do not change, read once per delivery: the ack wait. A simulated
   * clock leaves it out, and nowMs() stands in.
   */
  taskNowMs?(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Runs `callback` on a later turn of the event loop, after I/O already queued. */
  setImmediate(callback: () => void): void;
}

/** The process clock and Node's timers; each server makes its own (the task clock is state). */
export function createSystemScheduler(): Scheduler {
  let taskMs: number | undefined;
  const forget = (): void => {
    taskMs = undefined;
  };
  return {
    nowMs: () => Date.now(),
    taskNowMs: () => {
      if (taskMs === undefined) {
        taskMs = Date.now();
        queueMicrotask(forget);
      }
      return taskMs;
    },
    setTimeout: (callback: () => void, delayMs: number): TimerHandle => setTimeout(callback, delayMs),
    clearTimeout: (handle: TimerHandle): void => clearTimeout(handle as NodeJS.Timeout),
    setImmediate: (callback: () => void): void => {
      setImmediate(callback);
    },
  };
}
