// The driver's listeners: role changes, applied indexes, snapshots, stop. A listener that throws
// is logged and does not stop the others or the node.
import type { Logger } from '../util/logger.js';
import type { RaftDriverEvent } from './driver-types.js';

export class DriverEvents {
  private readonly listeners = new Set<(event: RaftDriverEvent) => void>();

  constructor(private readonly logger: Logger) {}

  /** Returns the function that removes the listener. */
  add(listener: (event: RaftDriverEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: RaftDriverEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error({ err: error, event: event.type }, 'raft driver listener threw');
      }
    }
  }
}
