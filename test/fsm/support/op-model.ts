// Random workloads for the state machine: fast-check draws "intents" (connect a client, publish a
// few messages, subscribe as a durable queue member, ack some of what was sent, delete a channel
// with a stale identity...), and a builder turns each into an op against the state a leader has
// applied so far — mostly valid, sometimes stale or wrong on purpose, plus undecodable bytes.
import fc from 'fast-check';
import type { Op } from '../../../src/fsm/ops.js';
import type { StreamingState } from '../../../src/fsm/records.js';
import { defaultStoreLimits, type StoreLimits } from '../../../src/store/limits.js';

const CLIENTS = ['c0', 'c1', 'c2', 'c3'];
const CHANNELS = ['orders', 'events.a', 'Orders', 'x', 'bad..name'];
const BASE_NS = 1_700_000_000_000_000_000n;

export type Intent =
  | { readonly k: 'connect'; readonly client: number; readonly replace: boolean }
  | { readonly k: 'disconnect'; readonly client: number }
  | { readonly k: 'channel'; readonly ch: number }
  | { readonly k: 'publish'; readonly ch: number; readonly count: number; readonly size: number; readonly skew: number }
  | { readonly k: 'subscribe'; readonly ch: number; readonly client: number; readonly kind: number; readonly name: number; readonly maxInFlight: number; readonly start: number; readonly replace: boolean }
  | { readonly k: 'unsubscribe'; readonly ch: number; readonly pick: number; readonly remove: boolean }
  | { readonly k: 'sentAck'; readonly ch: number; readonly pick: number; readonly sent: readonly number[]; readonly ack: number }
  | { readonly k: 'delete'; readonly ch: number; readonly stale: boolean }
  | { readonly k: 'expire'; readonly ch: number; readonly ageMs: number }
  | { readonly k: 'garbage'; readonly bytes: Uint8Array };

const ch = fc.nat({ max: CHANNELS.length - 1 });
const client = fc.nat({ max: CLIENTS.length - 1 });

export const intentArb: fc.Arbitrary<Intent> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('connect' as const), client, replace: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('disconnect' as const), client }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('channel' as const), ch }) },
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant('publish' as const), ch, count: fc.integer({ min: 1, max: 4 }), size: fc.nat({ max: 24 }),
      skew: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -2, max: 2 }) }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant('subscribe' as const), ch, client, kind: fc.nat({ max: 3 }), name: fc.nat({ max: 1 }),
      maxInFlight: fc.integer({ min: 0, max: 3 }), start: fc.nat({ max: 3 }), replace: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('unsubscribe' as const), ch, pick: fc.nat(), remove: fc.boolean() }) },
  {
    weight: 5,
    arbitrary: fc.record({ k: fc.constant('sentAck' as const), ch, pick: fc.nat(), sent: fc.array(fc.nat({ max: 30 }), { maxLength: 4 }), ack: fc.nat() }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('delete' as const), ch, stale: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('expire' as const), ch, ageMs: fc.nat({ max: 200 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('garbage' as const), bytes: fc.uint8Array({ maxLength: 40 }) }) },
);

export const limitsArb: fc.Arbitrary<StoreLimits> = fc
  .record({ maxMsgs: fc.constantFrom(0, 5), maxAgeMs: fc.constantFrom(0, 50), maxSubscriptions: fc.constantFrom(0, 3), maxChannels: fc.constantFrom(0, 3) })
  .map(({ maxMsgs, maxAgeMs, maxSubscriptions, maxChannels }) => {
    const base = defaultStoreLimits();
    return { ...base, maxChannels, global: { ...base.global, maxMsgs, maxAgeMs, maxSubscriptions } };
  });

/** What one intent becomes: a batch of ops applied together, or raw bytes for the decoder to refuse. */
export type Step = { readonly ops: readonly Op[] } | { readonly bytes: Uint8Array };

/** Builds ops the way a leader would, from the state applied so far. */
export class OpBuilder {
  private timeNs = BASE_NS;
  private inboxes = 0;

  build(intent: Intent, state: StreamingState): Step {
    const step = this.buildOne(intent, state);
    if (!('op' in step)) return step;
    // A leader creates a channel before it publishes or subscribes to it (in the same batch here).
    const op = step.op;
    if ((op.type === 'publish' || op.type === 'subscribe') && !state.channels.has(op.channel)) {
      const created = { ...op, ...(op.type === 'publish' ? { firstSeq: 1 + (op.firstSeq - 1) } : {}) } as Op;
      return { ops: [{ type: 'createChannel', channel: op.channel }, created] };
    }
    return { ops: [op] };
  }

  private buildOne(intent: Intent, state: StreamingState): { readonly op: Op } | { readonly bytes: Uint8Array } {
    this.timeNs += 1_000_000n;
    switch (intent.k) {
      case 'connect':
        return {
          op: {
            type: 'connect', clientId: CLIENTS[intent.client]!, hbInbox: `_HB.${intent.client}`, connId: Buffer.from(`conn-${intent.client}-${this.inboxes++}`),
            protocol: 1, pingInterval: 5, pingMaxOut: 3, replace: intent.replace,
          },
        };
      case 'disconnect':
        return { op: { type: 'disconnect', clientId: CLIENTS[intent.client]! } };
      case 'channel':
        return { op: { type: 'createChannel', channel: CHANNELS[intent.ch]! } };
      case 'publish': {
        const name = CHANNELS[intent.ch]!;
        const record = state.channels.get(name);
        const msgs = Array.from({ length: intent.count }, (_, i) => ({
          reply: i % 2 === 0 ? '' : `r${i}`,
          data: Buffer.from(`${name}-${this.timeNs}-${i}-${'p'.repeat(intent.size)}`),
        }));
        const timestampNs = record !== undefined && record.lastTimestampNs > this.timeNs ? record.lastTimestampNs : this.timeNs;
        return { op: { type: 'publish', channel: name, firstSeq: Math.max(0, (record?.lastSeq ?? 0) + 1 + intent.skew), timestampNs, msgs } };
      }
      case 'subscribe': {
        const name = CHANNELS[intent.ch]!;
        const record = state.channels.get(name);
        const last = record?.lastSeq ?? 0;
        const durable = intent.kind === 1 || intent.kind === 3 ? `dur${intent.name}` : '';
        const queue = intent.kind >= 2 ? `q${intent.name}` : '';
        const n = this.inboxes++;
        return {
          op: {
            type: 'subscribe', channel: name, subId: record?.nextSubId ?? 1, clientId: CLIENTS[intent.client]!, qGroup: queue, durableName: durable,
            inbox: `_INBOX.${n}`, ackInbox: `_ACK.${n}`, maxInFlight: intent.maxInFlight, ackWaitInSecs: 30,
            startLastSent: [last, Math.max(0, last - 1), 0, Math.max(0, last - 3)][intent.start]!, replaceDurable: intent.replace,
          },
        };
      }
      case 'unsubscribe': {
        const name = CHANNELS[intent.ch]!;
        const online = [...(state.channels.get(name)?.subs.values() ?? [])].filter((s) => !s.isClosed);
        const sub = online.length > 0 ? online[intent.pick % online.length] : undefined;
        return { op: { type: 'unsubscribe', channel: name, subId: sub?.id ?? 999, clientId: sub?.clientId ?? 'c0', remove: intent.remove } };
      }
      case 'sentAck': {
        const name = CHANNELS[intent.ch]!;
        const record = state.channels.get(name);
        const subs = [...(record?.subs.values() ?? [])];
        const sub = subs.length > 0 ? subs[intent.pick % subs.length] : undefined;
        const last = record?.lastSeq ?? 0;
        const sent = last === 0 ? [] : intent.sent.map((v) => 1 + (v % last));
        const pending = sub === undefined ? [] : [...sub.pending];
        const acked = pending.length === 0 ? [] : [pending[intent.ack % pending.length]!];
        return { op: { type: 'sentAck', channel: name, subs: [{ subId: sub?.id ?? 7, sent, acked }] } };
      }
      case 'delete': {
        const name = CHANNELS[intent.ch]!;
        const record = state.channels.get(name);
        return { op: { type: 'deleteChannel', channel: name, channelId: (record?.id ?? 0) + (intent.stale ? 1 : 0), lastSeq: record?.lastSeq ?? 0 } };
      }
      case 'expire': {
        const record = state.channels.get(CHANNELS[intent.ch]!);
        return { op: { type: 'expire', channel: CHANNELS[intent.ch]!, throughSeq: Math.max(0, (record?.lastSeq ?? 0) - (intent.ageMs % 4)) } };
      }
      case 'garbage':
        return { bytes: intent.bytes };
    }
  }
}
