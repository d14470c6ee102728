// Proves the in-process connection: messages cross between it and socket clients both ways,
// requests get replies, no-responders at once without interest, timeouts when nobody answers,
// queue groups, auto-unsubscribe, and a publisher is never re-entered from its own publish.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, StringCodec, type NatsConnection as Client } from 'nats';
import type { EmbeddedNatsServer } from '../../src/transport/nats/server.js';
import { RequestError, type NatsConnection } from '../../src/transport/nats/connection.js';
import { startEmbedded, until } from '../support/embedded.js';

const sc = StringCodec();
const text = (payload: Uint8Array | null): string => (payload ? Buffer.from(payload).toString() : '<null>');

function requestAsync(conn: NatsConnection, subject: string, data: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) =>
    conn.request(subject, sc.encode(data), timeoutMs, (error, payload) => (error ? reject(new Error(error)) : resolve(text(payload)))),
  );
}

describe('in-process connection', () => {
  let server: EmbeddedNatsServer;
  let local: NatsConnection;
  let client: Client;

  beforeAll(async () => {
    server = await startEmbedded();
    local = await server.connector().connect('_NSS-test-general');
    client = await connect({ port: server.port });
  });

  afterAll(async () => {
    await client.close();
    await local.close();
    await server.shutdown();
  });

  it('receives what a socket client publishes, with its reply subject', async () => {
    const got: string[] = [];
    const sub = local.subscribe('in.*', (subject, reply, payload) => got.push(`${subject}|${reply ?? ''}|${text(payload)}`));
    client.publish('in.a', sc.encode('one'), { reply: 'r.1' });
    await client.flush();
    await until(() => got.length === 1);
    expect(got).toEqual(['in.a|r.1|one']);
    sub.unsubscribe();
  });

  it('publishes to socket clients', async () => {
    const sub = client.subscribe('out.x', { max: 1 });
    await client.flush();
    local.publish('out.x', sc.encode('from inside'));
    for await (const msg of sub) expect(sc.decode(msg.data)).toBe('from inside');
  });

  it('makes requests answered by a socket client', async () => {
    const svc = client.subscribe('svc.local');
    (async () => {
      for await (const msg of svc) msg.respond(sc.encode(`ok:${sc.decode(msg.data)}`));
    })();
    await client.flush();
    expect(await requestAsync(local, 'svc.local', 'x', 2000)).toBe('ok:x');
    svc.unsubscribe();
  });

  it('answers no responders at once and times out when interest does not reply', async () => {
    await expect(requestAsync(local, 'nobody.home', 'x', 10_000)).rejects.toThrow(RequestError.NoResponders);
    const silent = client.subscribe('silent.svc');
    await client.flush();
    await expect(requestAsync(local, 'silent.svc', 'x', 50)).rejects.toThrow(RequestError.Timeout);
    silent.unsubscribe();
  });

  it('serves requests between two in-process connections without re-entering the publisher', async () => {
    const other = await server.connector().connect('other');
    let inPublish = false;
    other.subscribe('inner.svc', (_subject, reply) => {
      expect(inPublish).toBe(false);
      if (reply) other.publish(reply, sc.encode('inner-ok'));
    });
    inPublish = true;
    const answer = requestAsync(local, 'inner.svc', 'q', 2000);
    inPublish = false;
    expect(await answer).toBe('inner-ok');
    await other.close();
  });

  it('delivers each message to one member of an in-process queue group', async () => {
    const counts = [0, 0, 0];
    const subs = counts.map((_, i) => local.subscribe('lq', () => void counts[i]!++, 'workers'));
    for (let i = 0; i < 300; i++) client.publish('lq', sc.encode(String(i)));
    await client.flush();
    await until(() => counts.reduce((a, b) => a + b, 0) === 300);
    expect(counts.every((c) => c > 0)).toBe(true);
    for (const sub of subs) sub.unsubscribe();
  });

  it('stops after an auto-unsubscribe count', async () => {
    let count = 0;
    const sub = local.subscribe('auto', () => void count++);
    sub.autoUnsubscribe(2);
    for (let i = 0; i < 5; i++) client.publish('auto', sc.encode('x'));
    await client.flush();
    await until(() => !server.hasInterest('auto'));
    expect(count).toBe(2);
  });

  it('fails requests with CONNECTION_CLOSED once closed', async () => {
    const doomed = await server.connector().connect('doomed');
    await doomed.close();
    expect(doomed.isClosed).toBe(true);
    await expect(requestAsync(doomed, 'anything', 'x', 1000)).rejects.toThrow(RequestError.Closed);
  });

  it('keeps delivering to others when one in-process subscriber throws', async () => {
    const received: string[] = [];
    const bad = local.subscribe('throws', () => {
      throw new Error('subscriber bug');
    });
    const good = local.subscribe('throws', (_s, _r, payload) => received.push(text(payload)));
    client.publish('throws', sc.encode('still here'));
    await client.flush();
    await until(() => received.length === 1);
    expect(received).toEqual(['still here']);
    bad.unsubscribe();
    good.unsubscribe();
  });
});
