// What a connection needs from the server it belongs to. Kept narrow so that client sockets, the
// in-process connections and (later) routes depend on an interface, not on the server class.
import type { ConnectOptions, ClientConnection } from './client-connection.js';
import type { MessageTarget, Subscription } from './subscription.js';

export interface ServerCore {
  readonly authRequired: boolean;
  /** The INFO JSON sent to a newly accepted client. */
  clientInfo(client: ClientConnection): string;
  authenticate(connect: ConnectOptions): boolean;
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
