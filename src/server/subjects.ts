// The protocol subjects of one cluster ID (PROTOCOL.md §1.2).

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
