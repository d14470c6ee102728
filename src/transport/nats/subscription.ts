// A subscription as the server indexes it: who gets the messages (a socket client, an in-process
// connection, later a route) and how many it may still get.
import type { IndexedSubscription } from './sublist.js';

export const ConnectionKind = { Client: 'Client', Local: 'Local', Route: 'Router' } as const;
export type ConnectionKind = (typeof ConnectionKind)[keyof typeof ConnectionKind];

/** Anything a message can be delivered to. */
export interface MessageTarget {
  readonly id: number;
  readonly kind: ConnectionKind;
  /** Whether messages this target publishes may come back to it. */
  readonly echo: boolean;
  /**
   * Delivers one message to `subscription`. `payload` holds `headerBytes` of headers then the body;
   * it is valid only during the call. Returns true when the target's outbound queue is congested
   * (past half its pending limit), so the producer should be slowed.
   */
  deliver(subscription: Subscription, subject: string, reply: string | undefined, headerBytes: number, payload: Uint8Array): boolean;
  /** Ends one of this target's subscriptions (e.g. when its auto-unsubscribe count is reached). */
  removeSubscription(subscription: Subscription): void;
}

export class Subscription implements IndexedSubscription {
  /** Deliveries left before the subscription ends by itself; Infinity when unbounded. */
  remaining = Infinity;
  delivered = 0;
  /** The encoded `MSG <subject> <sid> ` of the last delivery, reused while the subject repeats. */
  msgPrefixSubject = '';
  msgPrefix: Buffer = Buffer.alloc(0);

  constructor(
    readonly target: MessageTarget,
    readonly sid: string,
    readonly subject: string,
    readonly queue: string,
  ) {}
}
