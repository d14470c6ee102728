// Which node IDs a Raft transport can carry: a node's inbox is one NATS subject token, and a few
// tokens under the cluster's Raft prefix are the reference's request subjects.

/**
 * Tokens under `_STAN.raft.<cluster-id>.` that name requests or reply inboxes, never a node: a
 * node called `state` would receive every node's start-up probes as Raft traffic.
 */
export const reservedNodeIds: readonly string[] = ['join', 'bootstrap', 'state', 'serving', 'handover', 'node', 'inbox'];

/** A node ID is one NATS subject token (letters, digits, '-', '_') and not a reserved one. */
export function isValidNodeId(id: string): boolean {
  return /^[A-Za-z0-9_-]{1,64}$/.test(id) && !reservedNodeIds.includes(id);
}
