// Proves the embedded server speaks NATS to the published `nats` 2.x client over real sockets:
// pub/sub, wildcards, queue groups, request/reply, no-responders, headers and auto-unsubscribe.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, headers as natsHeaders, StringCodec, type NatsConnection } from 'nats';
import type { EmbeddedNatsServer } from '../../src/transport/nats/server.js';
import { startEmbedded } from '../support/embedded.js';

const sc = StringCodec();

describe('embedded NATS server with nats 2.x', () => {
  let server: EmbeddedNatsServer;
  let a: NatsConnection;
  let b: NatsConnection;

  beforeAll(async () => {
    server = await startEmbedded();
    a = await connect({ port: server.port });
    b = await connect({ port: server.port });
  });

  afterAll(async () => {
    await a.close();
    await b.close();
    await server.shutdown();
  });

  it('delivers a published message to a subscriber on another connection', async () => {
    const sub = b.subscribe('greet.one', { max: 1 });
    await b.flush();
    a.publish('greet.one', sc.encode('hello'));
    for await (const msg of sub) {
      expect(msg.subject).toBe('greet.one');
      expect(sc.decode(msg.data)).toBe('hello');
    }
  });

  it('matches * and > wildcards and not beyond them', async () => {
    const star = b.subscribe('w.*.x');
    const full = b.subscribe('w.>');
    await b.flush();
    for (const subject of ['w.a.x', 'w.b.y', 'w.a.x.z', 'v.a.x']) a.publish(subject, sc.encode(subject));
    await a.flush();
    await b.flush();
    star.unsubscribe();
    full.unsubscribe();
    const starGot: string[] = [];
    for await (const msg of star) starGot.push(msg.subject);
    const fullGot: string[] = [];
    for await (const msg of full) fullGot.push(msg.subject);
    expect(starGot).toEqual(['w.a.x']);
    expect(fullGot).toEqual(['w.a.x', 'w.b.y', 'w.a.x.z']);
  });

  it('gives each message to exactly one member of a queue group, and to every plain subscriber', async () => {
    const q1 = b.subscribe('work', { queue: 'workers' });
    const q2 = a.subscribe('work', { queue: 'workers' });
    const plain = b.subscribe('work');
    await a.flush();
    await b.flush();
    const total = 200;
    for (let i = 0; i < total; i++) a.publish('work', sc.encode(String(i)));
    await a.flush();
    await b.flush();
    await a.flush();
    q1.unsubscribe();
    q2.unsubscribe();
    plain.unsubscribe();
    const seen: string[] = [];
    for await (const msg of q1) seen.push(sc.decode(msg.data));
    for await (const msg of q2) seen.push(sc.decode(msg.data));
    let plainCount = 0;
    for await (const _ of plain) plainCount++;
    expect(seen.length).toBe(total);
    expect(new Set(seen).size).toBe(total);
    expect(plainCount).toBe(total);
  });

  it('answers requests and reports no responders at once when nobody listens', async () => {
    const service = b.subscribe('svc.echo');
    (async () => {
      for await (const msg of service) msg.respond(sc.encode(`echo:${sc.decode(msg.data)}`));
    })();
    await b.flush();
    const reply = await a.request('svc.echo', sc.encode('ping'), { timeout: 2000 });
    expect(sc.decode(reply.data)).toBe('echo:ping');
    service.unsubscribe();
    await b.flush();
    await expect(a.request('svc.nobody', sc.encode('x'), { timeout: 5000 })).rejects.toMatchObject({ code: '503' });
  });

  it('carries headers to clients that support them', async () => {
    const sub = b.subscribe('h.one', { max: 1 });
    await b.flush();
    const h = natsHeaders();
    h.set('X-Trace', 'abc');
    a.publish('h.one', sc.encode('body'), { headers: h });
    for await (const msg of sub) {
      expect(msg.headers?.get('X-Trace')).toBe('abc');
      expect(sc.decode(msg.data)).toBe('body');
    }
  });

  it('stops delivering after the auto-unsubscribe count', async () => {
    const sub = b.subscribe('limited', { max: 3 });
    await b.flush();
    for (let i = 0; i < 10; i++) a.publish('limited', sc.encode(String(i)));
    await a.flush();
    const got: string[] = [];
    for await (const msg of sub) got.push(sc.decode(msg.data));
    expect(got).toEqual(['0', '1', '2']);
    await b.flush();
    expect(server.sublist.hasInterest('limited')).toBe(false);
  });

  it('does not echo messages back to a publisher that asked for no echo', async () => {
    const quiet = await connect({ port: server.port, noEcho: true });
    const own = quiet.subscribe('echo.test');
    const other = b.subscribe('echo.test', { max: 1 });
    await quiet.flush();
    await b.flush();
    quiet.publish('echo.test', sc.encode('x'));
    await quiet.flush();
    for await (const msg of other) expect(sc.decode(msg.data)).toBe('x');
    await quiet.flush();
    own.unsubscribe();
    let ownCount = 0;
    for await (const _ of own) ownCount++;
    expect(ownCount).toBe(0);
    await quiet.close();
  });
});
