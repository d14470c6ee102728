// Proves bad input on every request subject gets the reference error reply where one exists (and
// no reply where the reference sends none) while the server keeps serving: fast-check feeds random
// bytes, truncated and mistyped protobuf to discover, pings, pub, sub, unsub, subclose, close and
// an ack inbox, then a real client must still publish and receive.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createInbox } from 'nats';
import { StanErrors } from '../../src/server/errors.js';
import type { MessageName, MessageOf } from '../../src/server/protocol.js';
import { decodeCtrlMsg } from '../../src/store/records.js';
import { closeClient, collect, publishMany, startHarness, subscribe, type Harness, type StanClient } from './harness.js';
import { rawClient, type RawClient } from './raw.js';

const ALL_ERRORS = new Set<string>(Object.values(StanErrors));

/** Random bytes, and valid messages of the protocol truncated or sent to the wrong subject. */
function payloads(raw: RawClient): fc.Arbitrary<Uint8Array> {
  const valid = fc.constantFrom(
    raw.codec.encode('ConnectRequest', { clientID: 'fuzz', heartbeatInbox: '_INBOX.x', protocol: 1, connID: Buffer.from('c') }),
    raw.codec.encode('SubscriptionRequest', { clientID: 'no.body', subject: 'a.b', inbox: '_INBOX.y', maxInFlight: 5, ackWaitInSecs: 3, startPosition: 4 }),
    raw.codec.encode('PubMsg', { clientID: 'no.body', guid: 'g', subject: 'a', data: Buffer.from('zz') }),
    raw.codec.encode('UnsubscribeRequest', { clientID: 'no.body', subject: 'a', inbox: '_INBOX.z' }),
    raw.codec.encode('SubscriptionRequest', { clientID: 'x', maxInFlight: -1, ackWaitInSecs: -5, startPosition: 9 }),
  );
  const truncated = fc.tuple(valid, fc.nat()).map(([bytes, cut]) => bytes.subarray(0, cut % (bytes.length + 1)));
  const mutated = fc.tuple(valid, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([bytes, at, value]) => {
    const copy = Uint8Array.from(bytes);
    if (copy.length > 0) copy[at % copy.length] = value;
    return copy;
  });
  return fc.oneof(fc.uint8Array({ maxLength: 300 }), truncated, mutated, valid);
}

async function replyOrNull<N extends MessageName>(
  raw: RawClient, subject: string, payload: Uint8Array, type: N, timeoutMs = 500,
): Promise<MessageOf<N> | null> {
  try {
    const msg = await raw.nc.request(subject, payload, { timeout: timeoutMs });
    return raw.codec.decodeResponse(type, msg.data);
  } catch (error) {
    if ((error as { code?: string }).code === 'TIMEOUT') return null;
    throw error;
  }
}

function parsesAsCtrlMsg(bytes: Uint8Array): boolean {
  try {
    decodeCtrlMsg(bytes);
    return true;
  } catch {
    return false;
  }
}

describe('bad input on every request subject', () => {
  let h: Harness;
  let raw: RawClient;
  let client: StanClient;
  beforeAll(async () => {
    h = await startHarness();
    raw = await rawClient(h.url);
    client = await h.connect('fuzz-victim');
  });
  afterAll(async () => {
    await closeClient(client);
    await raw.close();
    await h.stop();
  });

  it('discover: invalid connect requests get the reference error', async () => {
    await fc.assert(fc.asyncProperty(payloads(raw), async (bytes) => {
      const res = await replyOrNull(raw, '_STAN.discover.test-cluster', bytes, 'ConnectResponse');
      expect(res).not.toBeNull();
      if (res!.error === '') {
        // Some mutations are valid requests: the client is registered; close it so that later
        // properties do not meet a real client by accident.
        expect(res!.pubPrefix).toBe('_STAN.pub.test-cluster');
        const { clientID } = raw.codec.decodeConnectRequest(bytes);
        const closed = await replyOrNull(raw, '_STAN.close.test-cluster', raw.codec.encode('CloseRequest', { clientID }), 'CloseResponse');
        expect(closed?.error).toBe('');
      } else expect([StanErrors.invalidConnectRequest, StanErrors.invalidClientId, StanErrors.clientIdAlreadyRegistered]).toContain(res!.error);
    }), { numRuns: 150 });
  });

  it('pub: invalid publishes get "stan: invalid publish request" (control messages are ignored)', async () => {
    await fc.assert(fc.asyncProperty(payloads(raw), async (bytes) => {
      const res = await replyOrNull(raw, '_STAN.pub.test-cluster.a', bytes, 'PubAck');
      if (res === null) expect(parsesAsCtrlMsg(bytes)).toBe(true);
      else expect(res.error).toBe(StanErrors.invalidPublishRequest);
    }), { numRuns: 150 });
  });

  it('sub: every bad subscription request gets one of the reference errors', async () => {
    await fc.assert(fc.asyncProperty(payloads(raw), async (bytes) => {
      const res = await replyOrNull(raw, '_STAN.sub.test-cluster', bytes, 'SubscriptionResponse');
      expect(res).not.toBeNull();
      // The store's case-conflict text names the channels, so it is matched by its start.
      expect(ALL_ERRORS.has(res!.error) || res!.error.startsWith('rejecting channel')).toBe(true);
    }), { numRuns: 150 });
  });

  it('unsub and subclose: bad requests get the reference errors', async () => {
    const allowed = [StanErrors.invalidUnsubscribeRequest, StanErrors.unknownChannel, StanErrors.invalidSubscription, StanErrors.unknownClientId];
    for (const subject of ['_STAN.unsub.test-cluster', '_STAN.subclose.test-cluster']) {
      await fc.assert(fc.asyncProperty(payloads(raw), async (bytes) => {
        const res = await replyOrNull(raw, subject, bytes, 'SubscriptionResponse');
        expect(res).not.toBeNull();
        expect(allowed).toContain(res!.error);
      }), { numRuns: 100 });
    }
  });

  it('close: bad requests get the reference errors', async () => {
    await fc.assert(fc.asyncProperty(payloads(raw), async (bytes) => {
      const res = await replyOrNull(raw, '_STAN.close.test-cluster', bytes, 'CloseResponse');
      expect(res).not.toBeNull();
      expect([StanErrors.invalidCloseRequest, StanErrors.unknownClientId]).toContain(res!.error);
    }), { numRuns: 150 });
  });

  it('pings: unknown connections are told they were replaced, empty pings get no reply', async () => {
    await fc.assert(fc.asyncProperty(payloads(raw), async (bytes) => {
      const res = await replyOrNull(raw, '_STAN.discover.test-cluster.pings', bytes, 'PingResponse', 150);
      if (res !== null) expect(res.error).toBe(StanErrors.clientReplaced);
    }), { numRuns: 40 });
  });

  it('acks: garbage on a live ack inbox is dropped and delivery goes on', async () => {
    const sub = await subscribe(client, 'fuzz.acks', client.subscriptionOptions().setManualAckMode(true).setAckWait(30_000));
    const ackInbox = sub.ackInbox!;
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
      raw.nc.publish(ackInbox, bytes);
    }), { numRuns: 200 });
    raw.nc.publish(createInbox(), new Uint8Array([1, 2, 3]));
    await raw.nc.flush();
    const got = collect(sub, 2);
    await publishMany(client, 'fuzz.acks', 2);
    const msgs = await got;
    expect(msgs.map((m) => m.getSequence())).toEqual([1, 2]);
    for (const m of msgs) m.ack();
  });

  it('the server still serves a real client afterwards', async () => {
    const sub = client.subscribe('after.fuzz', client.subscriptionOptions().setDeliverAllAvailable());
    const got = collect(sub, 3);
    await publishMany(client, 'after.fuzz', 3);
    expect((await got).length).toBe(3);
    expect(h.server.isRunning).toBe(true);
  });
});
