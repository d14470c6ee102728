// What a connection needs from the server it belongs to. Kept narrow so that client sockets, the
// in-process connections and (later) routes depend on an interface, not on the server class.
import type { ConnectOptions, ClientConnection } from './client-connection.js';
import type { AuthOutcome } from './client-auth.js';
import type { ClientPermissions } from './permissions.js';
import type { MessageTarget, Subscription } from './subscription.js';

export interface ServerCore {
  readonly authRequired: boolean;
  /** The INFO JSON sent to a newly accepted client. */
  clientInfo(clientId: number, clientIp: string): string;
  /** A verdict now, or (a bcrypt hash to compare) a Promise of one. */
  authenticate(connect: ConnectOptions): AuthOutcome | Promise<AuthOutcome>;
  /**
   * The checks other layers add to publishes by users with permissions (a STAN subscription
   * request's channel); the refusal to log, or null when the message may go on.
   */
  checkPublish(permissions: ClientPermissions, subject: string, reply: string | undefined, payload: Uint8Array): string | null;
  /** A request the user's permissions refused: another layer may answer it (a STAN PubAck error). */
  publishRefused(subject: string, reply: string, payload: Uint8Array, violation: string): void;
  addSubscription(subscription: Subscription): void;
  removeSubscription(subscription: Subscription): void;
  /**
   * Delivers a message to every matching subscription (one member per queue group). When nobody
   * matches and the publisher asked for it, a request gets the no-responders status.
   */
  routeMessage(
    origin: MessageTarget,
    subject: string,
    reply: string | undefined,
    headerBytes: number,
    payload: Uint8Array,
    wantsNoResponders: boolean,
  ): void;
  scheduleFlush(target: { flush(): void }): void;
  countSlowConsumer(): void;
  onClientClosed(client: ClientConnection): void;
}
