// Which STAN channels a NATS user may subscribe to. NATS permissions see subjects only, and a STAN
// subscription request names its channel inside the protobuf it carries to `_STAN.sub.<cluster-id>`,
// so no subject permission can tell channels apart there. tstan therefore reads the request on
// the node the client is connected to (every node checks its own clients, so it holds in a
// cluster too) and asks the user's `subscribe` permissions about the channel's publish subject,
// `_STAN.pub.<cluster-id>.<channel>`: the one subject that names a channel, for subscribing as for
// publishing. A refused request is answered at once with a SubscriptionResponse error, as a
// refused subscription is in the reference server. Only users with permissions are checked.
import type { NatsConnection } from '../transport/nats/connection.js';
import type { ClientPermissions } from '../transport/nats/permissions.js';
import type { PublishCheck } from '../transport/nats/server.js';
import { StanCodec } from './protocol.js';
import type { StanSubjects } from './subjects.js';

/** The error a refused subscription request gets back. */
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
