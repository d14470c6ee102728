// How Raft messages travel between nodes, as the driver needs it. Raft tolerates loss,
// duplication and reordering, so a transport promises only this: a message is delivered whole or
// not at all, and sending never blocks or throws for an unreachable peer (the core retries on its
// next heartbeat). Generic over the message type so that an implementation need not know the
// core's message union; src/transport/raft implements it (in memory, over NATS).

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
