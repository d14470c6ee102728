// Subjects that belong to the cluster's nodes: Raft traffic (and the join, bootstrap and node
// add/remove requests under the same prefix, and the inboxes their answers come back on) and the
// message fetch between nodes. Only the nodes' in-process connections and the routes between
// nodes may carry them. A client socket that publishes, replies or subscribes there is refused
// with nats-server's permissions-violation errors, and a client's wildcard subscription (`>`,
// `_STAN.>`) never receives them: the subscription index leaves client subscriptions out of the
// matches of these subjects.

/**
 * Every prefix reserved to the nodes: the one list that the server's checks and the users of
 * these subjects (the Raft transport, the message fetch) share.
 */
export const InternalSubjectPrefix = {
  /** `_STAN.raft.<cluster-id>.<node-id>`: Raft messages; also `.join`, `.bootstrap`, `.node.add`, `.node.remove`. */
  raft: '_STAN.raft.',
  /** `_STAN.fetch.<cluster-id>.…`: messages a node restored from a snapshot fetches from its peers. */
  fetch: '_STAN.fetch.',
} as const;

const prefixes: readonly string[] = Object.values(InternalSubjectPrefix);
/** Every internal prefix is `_STAN.` and a name: 1 at the (ASCII) codes the names start with. */
const STAN_PREFIX = '_STAN.';
const nameStarts = new Uint8Array(128);
for (const prefix of prefixes) {
  if (!prefix.startsWith(STAN_PREFIX) || prefix.length <= STAN_PREFIX.length) throw new Error(`internal prefix ${prefix} is not under ${STAN_PREFIX}`);
  nameStarts[prefix.charCodeAt(STAN_PREFIX.length)] = 1;
}

/**
 * The inbox prefix of a node's connection for requests to other nodes (state probes, joins,
 * serving probes, message fetches): the answers travel under the internal prefix too, where a
 * client's `_INBOX.>` or `>` never reaches them. Several tokens, so never a node's own subject.
 */
export function internalInboxPrefix(clusterId: string): string {
  return `${InternalSubjectPrefix.raft}${clusterId}.inbox`;
}

/**
 * Whether `subject` lies under an internal prefix. For a subscription pattern this means every
 * subject it can match is internal (`_STAN.raft.>`); a pattern that only overlaps them (`>`,
 * `_STAN.*.x`) is not, and is kept from internal messages when they are matched instead.
 */
export function isInternalSubject(subject: string): boolean {
  // Two character comparisons decide for nearly every subject on the publish path: most do not
  // start with '_', and STAN's own (`_STAN.pub.`, `_STAN.ack.`, `_INBOX.`) differ at the name.
  if (subject.charCodeAt(0) !== 95 || nameStarts[subject.charCodeAt(STAN_PREFIX.length)] !== 1) return false;
  for (const prefix of prefixes) if (subject.startsWith(prefix)) return true;
  return false;
}

/** nats-server's texts, so that clients report them as the permission errors they know. */
export const PermissionViolation = {
  publish: (subject: string): string => `Permissions Violation for Publish to ${quote(subject)}`,
  reply: (reply: string): string => `Permissions Violation for Publish with Reply of ${quote(reply)}`,
  subscription: (subject: string, queue: string): string =>
    queue === ''
      ? `Permissions Violation for Subscription to ${quote(subject)}`
      : `Permissions Violation for Subscription to ${quote(subject)} using queue ${quote(queue)}`,
} as const;

/** Go's %q for the printable subjects NATS allows. */
function quote(text: string): string {
  return JSON.stringify(text);
}
