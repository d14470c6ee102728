// Which STAN channels a NATS user may publish to and subscribe to, with answers the STAN client
// understands.
//
// Publishing is a NATS publish to `_STAN.pub.<cluster-id>.<channel>`, so the user's publish
// permissions decide it. Subscribing is another matter: a STAN subscription request names its
// channel inside the protobuf it carries to `_STAN.sub.<cluster-id>`, so no subject permission can
// tell channels apart there. tstan reads the request on the node the client is connected to (every
// node checks its own clients, so it holds in a cluster too) and asks the user's `subscribe`
// permissions about the channel's publish subject, `_STAN.pub.<cluster-id>.<channel>`: the one
// subject that names a channel, for subscribing as for publishing.
//
// A request refused either way is answered at once, with the response the client waits for
// carrying the error (a PubAck, a SubscriptionResponse, a ConnectResponse ...), instead of leaving
// the client to time out. Only users with permissions are checked; the server never sees these.
import type { NatsConnection } from '../transport/nats/connection.js';
import type { ClientPermissions } from '../transport/nats/permissions.js';
import type { PublishCheck, RefusedPublishAnswer } from '../transport/nats/server.js';
import { StanCodec, type MessageName } from './protocol.js';
import type { StanSubjects } from './subjects.js';

/** The error a subscription request for a channel the user may not read gets back. */
export function subscriptionRefusal(channel: string): string {
  return `stan: permissions violation for subscription to channel "${channel}"`;
}

/** The check for `subjects.subRequests`; `answer` sends the refusal to the request's reply subject. */
export function subscribePermissionCheck(subjects: StanSubjects, answer: NatsConnection): PublishCheck {
  const codec = new StanCodec();
  return (permissions: ClientPermissions, reply: string | undefined, payload: Uint8Array): string | null => {
    let channel: string;
    try {
      channel = codec.decodeSubscriptionRequest(payload).subject;
    } catch {
      // Not a request the server would act on: it answers (or ignores) it as it does any other.
      return null;
    }
    if (channel === '' || permissions.canSubscribe(`${subjects.pubPrefix}.${channel}`)) return null;
    const refusal = subscriptionRefusal(channel);
    if (reply !== undefined) answer.publish(reply, codec.encodeSubscriptionResponse('', refusal));
    return refusal;
  };
}

/** The response each request subject waits for, for the requests the permissions refused. */
function responseOf(subjects: StanSubjects, subject: string): MessageName | 'PubAck' | null {
  if (subject.startsWith(`${subjects.pubPrefix}.`)) return 'PubAck';
  if (subject === subjects.subRequests || subject === subjects.unsubRequests || subject === subjects.subCloseRequests) return 'SubscriptionResponse';
  if (subject === subjects.discover) return 'ConnectResponse';
  if (subject === subjects.closeRequests) return 'CloseResponse';
  if (subject === subjects.pings) return 'PingResponse';
  return null;
}

/**
 * Answers a STAN request that the user's publish permissions refused with the response it waits
 * for, carrying nats-server's violation text as its error. Other subjects are left alone.
 */
export function refusedRequestAnswer(subjects: StanSubjects, answer: NatsConnection): RefusedPublishAnswer {
  const codec = new StanCodec();
  return (subject: string, reply: string, payload: Uint8Array, violation: string): void => {
    const response = responseOf(subjects, subject);
    if (response === null) return;
    if (response !== 'PubAck') {
      answer.publish(reply, codec.encode(response, { error: violation }));
      return;
    }
    let guid: string;
    try {
      guid = codec.decodePubMsg(payload).guid;
    } catch {
      return;
    }
    answer.publish(reply, codec.encodePubAck(guid, violation));
  };
}
