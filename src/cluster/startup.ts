// How a node joins its cluster at start-up, decided from its own Raft state and its peers':
// - it has Raft state: it restarts from it;
// - it has none, and neither has any peer (all answered): the founding voters write the same
//   first configuration (`--cluster_peers`), or the seed elects itself (`--cluster_bootstrap`).
//   A peer that holds only that first configuration, in term 1, counts as having none: founding
//   nodes start at slightly different times and must all end up founding;
// - it has none but a peer has: its state was lost (a wiped or replaced disk). It must not vote
//   or campaign before it has caught up, or it could vote twice in a term or elect a node that
//   lacks a committed entry: it rejoins through the catch-up gate of the Raft core;
// - it has none, no peers are configured and it is no seed: it asks the leader to add it.
// A node answers other nodes' probes on `_STAN.raft.<cid>.state` with whether it has state.
import { Packr } from 'msgpackr';
import type { Logger } from '../util/logger.js';
import type { NatsConnection, NatsSubscription } from '../transport/nats/connection.js';
import { InternalSubjectPrefix } from '../transport/nats/internal-subjects.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export type StartupMode =
  | { readonly kind: 'restart' }
  | { readonly kind: 'found'; readonly voters: readonly string[] }
  | { readonly kind: 'rejoin'; readonly from: string }
  | { readonly kind: 'join' };

export function stateSubject(clusterId: string): string {
  return `${InternalSubjectPrefix.raft}${clusterId}.state`;
}

/** Answered by the node that serves clients (the leader, once its session has started). */
export function servingSubject(clusterId: string): string {
  return `${InternalSubjectPrefix.raft}${clusterId}.serving`;
}

/**
 * A leader about to hand over says so here first (its node ID), so that the node that takes over
 * waits for the requests it still receives; `<subject>.<node-id>` is where they are passed on.
 */
export function handoverSubject(clusterId: string): string {
  return `${InternalSubjectPrefix.raft}${clusterId}.handover`;
}

/** Where a leader handing over passes its requests on to `nodeId`, the node taking over. */
export function takeOverSubject(clusterId: string, nodeId: string): string {
  return `${handoverSubject(clusterId)}.${nodeId}`;
}

export function joinSubject(clusterId: string): string {
  return `${InternalSubjectPrefix.raft}${clusterId}.join`;
}

export function nodeAddSubject(clusterId: string): string {
  return `${InternalSubjectPrefix.raft}${clusterId}.node.add`;
}

export function nodeRemoveSubject(clusterId: string): string {
  return `${InternalSubjectPrefix.raft}${clusterId}.node.remove`;
}

/** Answers peers' start-up probes for as long as the node runs. */
export function answerStateProbes(connection: NatsConnection, clusterId: string, nodeId: string, hasState: () => boolean): NatsSubscription {
  return connection.subscribe(stateSubject(clusterId), (_subject, reply, payload) => {
    if (reply === undefined) return;
    let asker: unknown;
    try {
      asker = packr.unpack(payload);
    } catch {
      return;
    }
    if (asker === nodeId) return;
    connection.publish(reply, packr.pack([nodeId, hasState()]));
  });
}

/** A peer's answer to a state probe: its node ID and whether it has Raft state; a malformed one counts as none. */
function probeAnswer(payload: Uint8Array): [string, boolean] | undefined {
  try {
    const value: unknown = packr.unpack(payload);
    if (Array.isArray(value) && typeof value[0] === 'string' && typeof value[1] === 'boolean') return [value[0], value[1]];
  } catch {
    // malformed
  }
  return undefined;
}

/**
 * Resolves once every node in `peers` answered a state probe sent now, or after `waitMs`, with the
 * nodes that answered. A route carries a server's messages in the order it sent them, and a
 * server announces a new subscription on its routes as it takes it: so once a peer answered, its
 * server knows of every subscription this connection had flushed before the probe.
 */
export function reachPeers(connection: NatsConnection, clusterId: string, nodeId: string, peers: readonly string[], waitMs: number): Promise<Set<string>> {
  const answered = new Set<string>();
  if (peers.length === 0 || connection.isClosed) return Promise.resolve(answered);
  return new Promise((resolve) => {
    const inbox = connection.newInbox();
    const finish = (): void => {
      clearTimeout(deadline);
      sub.unsubscribe();
      resolve(answered);
    };
    const sub = connection.subscribe(inbox, (_subject, _reply, payload) => {
      const answer = probeAnswer(payload);
      if (answer === undefined || !peers.includes(answer[0])) return;
      answered.add(answer[0]);
      if (answered.size === peers.length) finish();
    });
    const deadline = setTimeout(finish, waitMs);
    connection.publish(stateSubject(clusterId), packr.pack(nodeId), inbox);
  });
}

export interface StartupInputs {
  readonly connection: NatsConnection;
  readonly clusterId: string;
  readonly nodeId: string;
  readonly peers: readonly string[];
  readonly bootstrap: boolean;
  readonly hasRaftState: boolean;
  readonly logger: Logger;
  /** How long one probe round waits for answers. */
  readonly probeWindowMs?: number;
  /** Stops waiting for peers (the node is shutting down). */
  readonly cancelled?: () => boolean;
}

/** Collects the answers of one probe round: node ID -> whether it has Raft state. */
function probeOnce(inputs: StartupInputs): Promise<Map<string, boolean>> {
  const { connection, clusterId, nodeId } = inputs;
  const answers = new Map<string, boolean>();
  const inbox = connection.newInbox();
  return new Promise((resolve) => {
    const sub = connection.subscribe(inbox, (_subject, _reply, payload) => {
      const answer = probeAnswer(payload);
      if (answer !== undefined) answers.set(answer[0], answer[1]);
    });
    connection.publish(stateSubject(clusterId), packr.pack(nodeId), inbox);
    setTimeout(() => {
      sub.unsubscribe();
      resolve(answers);
    }, inputs.probeWindowMs ?? 500);
  });
}

/**
 * Decides how the node starts; waits (probing again) while peers needed for the decision are
 * silent. A node without founding peers always asks to join (a cluster it may once have belonged
 * to keeps it in its configuration, and the join is then a no-op); a seed founds only if no node
 * it can hear has state — otherwise its own state was lost, and founding again would split the
 * cluster in two.
 */
export async function decideStartup(inputs: StartupInputs): Promise<StartupMode> {
  if (inputs.hasRaftState) return { kind: 'restart' };
  const peers = inputs.peers;
  if (peers.length === 0 && !inputs.bootstrap) return { kind: 'join' };
  let waitedRounds = 0;
  for (;;) {
    const answers = await probeOnce(inputs);
    for (const [, hasState] of answers) {
      if (hasState) return peers.length > 0 ? { kind: 'rejoin', from: [...answers].find(([, s]) => s)![0] } : { kind: 'join' };
    }
    if (peers.length === 0) return { kind: 'found', voters: [inputs.nodeId] };
    const silent = peers.filter((peer) => !answers.has(peer));
    if (silent.length === 0) return { kind: 'found', voters: [inputs.nodeId, ...peers].sort() };
    if (inputs.cancelled?.() === true) return { kind: 'join' };
    // Nobody answered yet: ask again after a while (the probe's own window is the pause).
    if (waitedRounds++ % 10 === 0) {
      inputs.logger.info({ waitingFor: silent }, 'no Raft state here: waiting for every peer to answer before founding the cluster');
    }
  }
}
