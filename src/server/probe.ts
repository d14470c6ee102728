// The start-up probe for another streaming server with the same cluster ID (docs/protocol.md §1.3):
// a ConnectRequest with clientID = cluster ID; any answer means another server is serving it.
import type { NatsConnection } from '../transport/nats/connection.js';
import { TstanError } from '../util/errors.js';
import type { StanCodec } from './protocol.js';
import type { StanSubjects } from './subjects.js';

export function probeForOtherServer(
  connection: NatsConnection,
  codec: StanCodec,
  subjects: StanSubjects,
  clusterId: string,
  timeoutMs: number,
): Promise<void> {
  const request = codec.encode('ConnectRequest', {
    clientID: clusterId,
    heartbeatInbox: connection.newInbox(),
    protocol: 0,
  });
  return new Promise((resolve, reject) => {
    connection.request(subjects.discover, request, timeoutMs, (error, payload) => {
      // A timeout or "no responders" means nobody serves this cluster ID.
      if (error !== null || payload === null) return resolve();
      let closeSubject = subjects.closeRequests;
      try {
        const response = codec.decodeResponse('ConnectResponse', payload);
        if (response.closeRequests !== '') closeSubject = response.closeRequests;
      } catch {
        // still another server: it answered
      }
      // Leave nothing behind on the other server.
      connection.publish(closeSubject, codec.encode('CloseRequest', { clientID: clusterId }));
      connection.flush(() =>
        reject(
          new TstanError(
            'STAN_DUPLICATE_SERVER',
            `discovered another streaming server with cluster ID "${clusterId}"`,
          ),
        ),
      );
    });
  });
}
