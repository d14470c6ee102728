// A raw STAN protocol client on the `nats` 2.x client and our own codec, for the cases the
// published client cannot produce: dead heartbeat inboxes, replaced connections, bad payloads.
import { connect, createInbox, type NatsConnection } from 'nats';
import { StanCodec, type ConnectResponse, type MessageName, type MessageOf } from '../../src/server/protocol.js';

export interface RawClient {
  readonly nc: NatsConnection;
  readonly codec: StanCodec;
  /** Sends a request and decodes the reply as `type`. */
  request<N extends MessageName>(subject: string, payload: Uint8Array, type: N): Promise<MessageOf<N>>;
  close(): Promise<void>;
}

export async function rawClient(url: string): Promise<RawClient> {
  const nc = await connect({ servers: url });
  const codec = new StanCodec();
  return {
    nc,
    codec,
    async request<N extends MessageName>(subject: string, payload: Uint8Array, type: N): Promise<MessageOf<N>> {
      const msg = await nc.request(subject, payload, { timeout: 3000 });
      return codec.decodeResponse(type, msg.data);
    },
    async close() {
      await nc.close();
    },
  };
}

/** Connects a STAN client whose heartbeat inbox nobody answers (a dead client) unless `answer`. */
export async function rawConnect(
  raw: RawClient,
  clusterId: string,
  clientId: string,
  connId: string,
  answer = false,
): Promise<ConnectResponse> {
  const hbInbox = createInbox();
  if (answer) raw.nc.subscribe(hbInbox, { callback: (_err, msg) => msg.respond(new Uint8Array(0)) });
  const payload = raw.codec.encode('ConnectRequest', {
    clientID: clientId,
    heartbeatInbox: hbInbox,
    protocol: 1,
    connID: Buffer.from(connId),
    pingInterval: 1,
    pingMaxOut: 3,
  });
  return raw.request(`_STAN.discover.${clusterId}`, payload, 'ConnectResponse');
}

export function pubMsg(raw: RawClient, clientId: string, connId: string, channel: string, data: string, guid = createInbox()): Uint8Array {
  return raw.codec.encode('PubMsg', {
    clientID: clientId,
    guid,
    subject: channel,
    data: Buffer.from(data),
    connID: Buffer.from(connId),
  });
}
