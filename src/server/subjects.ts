// The protocol subjects of one cluster ID (docs/protocol.md §1.2).
import type { RecoveredState, Store } from '../store/types.js';
import { TstanError } from '../util/errors.js';

export interface StanSubjects {
  readonly discover: string;
  readonly pings: string;
  readonly pubPrefix: string;
  readonly subRequests: string;
  readonly unsubRequests: string;
  readonly subCloseRequests: string;
  readonly closeRequests: string;
  readonly acksSubs: string;
}

export function stanSubjects(clusterId: string, discoverPrefix: string): StanSubjects {
  const discover = `${discoverPrefix}.${clusterId}`;
  return Object.freeze({
    discover,
    pings: `${discover}.pings`,
    pubPrefix: `_STAN.pub.${clusterId}`,
    subRequests: `_STAN.sub.${clusterId}`,
    unsubRequests: `_STAN.unsub.${clusterId}`,
    subCloseRequests: `_STAN.subclose.${clusterId}`,
    closeRequests: `_STAN.close.${clusterId}`,
    acksSubs: `_STAN.ack.${clusterId}`,
  });
}

/** Recorded subjects of a recovered store, as far as they are set (ServerInfo of server.dat). */
export interface RecordedSubjects {
  readonly discovery: string;
  readonly publish: string;
  readonly subscribe: string;
  readonly unsubscribe: string;
  readonly close: string;
  readonly subClose: string;
  readonly acksSubs: string;
}

/**
 * The subjects a restarted server keeps using: those its store recorded (older servers wrote
 * NUID-based ones, and their clients' ConnectResponses named them), else the computed ones.
 */
export function subjectsAfterRecovery(computed: StanSubjects, recorded: RecordedSubjects): StanSubjects {
  const pick = (stored: string, fallback: string): string => (stored === '' ? fallback : stored);
  const discover = pick(recorded.discovery, computed.discover);
  return Object.freeze({
    discover,
    pings: `${discover}.pings`,
    pubPrefix: pick(recorded.publish, computed.pubPrefix),
    subRequests: pick(recorded.subscribe, computed.subRequests),
    unsubRequests: pick(recorded.unsubscribe, computed.unsubRequests),
    subCloseRequests: pick(recorded.subClose, computed.subCloseRequests),
    closeRequests: pick(recorded.close, computed.closeRequests),
    acksSubs: pick(recorded.acksSubs, computed.acksSubs),
  });
}

/**
 * A server's identity in its store (server.dat): checks the recorded cluster ID, keeps the
 * recorded subjects, records them with `nodeId`; returns the subjects to serve.
 */
export async function recordServerInfo(
  store: Store,
  clusterId: string,
  computed: StanSubjects,
  recovered: RecoveredState | undefined,
  nodeId: string,
): Promise<StanSubjects> {
  if (recovered !== undefined && recovered.info.clusterId !== '' && recovered.info.clusterId !== clusterId) {
    throw new TstanError('STAN_CLUSTER_ID_MISMATCH', `cluster ID "${clusterId}" does not match recovered value of "${recovered.info.clusterId}"`);
  }
  const s = recovered === undefined ? computed : subjectsAfterRecovery(computed, recovered.info);
  await store.init({
    clusterId,
    discovery: s.discover,
    publish: s.pubPrefix,
    subscribe: s.subRequests,
    unsubscribe: s.unsubRequests,
    close: s.closeRequests,
    subClose: s.subCloseRequests,
    acksSubs: s.acksSubs,
    nodeId,
  });
  return s;
}
