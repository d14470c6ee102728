// How Raft messages travel between nodes. Raft tolerates loss, duplication and reordering, so
// a transport promises only this: a message is delivered whole or not at all, and sending never
// blocks or throws for an unreachable peer (the core retries on its next heartbeat). Generic over
// the message type so that the transport does not depend on the core's message union.

/** Receives each message that arrives for this node, with the sender's node ID. */
export type RaftMessageHandler<M> = (message: M, from: string) => void;

export interface RaftTransport<M> {
  /** This node's ID: one subject token (letters, digits, '-', '_'). */
  readonly localId: string;
  /** Queues `message` for node `to`. Drops it (and counts it) if the peer is unknown or unreachable. */
  send(to: string, message: M): void;
  /** Installs the one handler of incoming messages (replacing any earlier one). */
  onMessage(handler: RaftMessageHandler<M>): void;
  /** Stops sending and receiving; messages still queued for this node are dropped. */
  close(): Promise<void>;
}

/** A node ID is one NATS subject token and not a reserved subject name (docs/architecture.md §4, decision 1). */
export function isValidNodeId(id: string): boolean {
  return /^[A-Za-z0-9_-]{1,64}$/.test(id) && id !== 'join' && id !== 'bootstrap';
}
