// The protocol subjects of one cluster ID (docs/protocol.md §1.2).

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
