// Proves the legacy `nats` 1.x client (the one node-nats-streaming uses; no headers) works beside
// nats 2.x: pub/sub both ways, muxed requests, and no HMSG ever sent to it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { connect, StringCodec, type NatsConnection } from 'nats';
import type { EmbeddedNatsServer } from '../../src/transport/nats/server.js';
import { startEmbedded } from '../support/embedded.js';

const require = createRequire(import.meta.url);
// nats 1.x is CommonJS with no types; the surface used here is small.
interface LegacyClient {
  on(event: string, handler: (...args: unknown[]) => void): void;
  publish(subject: string, data: string, reply?: string): void;
  subscribe(subject: string, optsOrHandler: unknown, handler?: (msg: string, reply: string, subject: string) => void): number;
  request(subject: string, data: string, opts: unknown, handler: (response: unknown) => void): number;
  flush(callback: () => void): void;
  close(): void;
}
const legacy = require('nats-v1') as { connect(options: Record<string, unknown>): LegacyClient };
const sc = StringCodec();

function legacyConnect(port: number): Promise<LegacyClient> {
  return new Promise((resolve, reject) => {
    const client = legacy.connect({ url: `nats://127.0.0.1:${port}`, reconnect: false });
    client.on('connect', () => resolve(client));
    client.on('error', (error) => reject(error as Error));
  });
}

function flushed(client: LegacyClient): Promise<void> {
  return new Promise((resolve) => client.flush(resolve));
}

describe('legacy nats 1.x client', () => {
  let server: EmbeddedNatsServer;
  let old: LegacyClient;
  let modern: NatsConnection;

  beforeAll(async () => {
    server = await startEmbedded();
    old = await legacyConnect(server.port);
    modern = await connect({ port: server.port });
  });

  afterAll(async () => {
    old.close();
    await modern.close();
    await server.shutdown();
  });

  it('exchanges messages with a nats 2.x client both ways', async () => {
    const fromModern = new Promise<string>((resolve) => old.subscribe('to.old', {}, (msg) => resolve(msg)));
    await flushed(old);
    modern.publish('to.old', sc.encode('hi old'));
    expect(await fromModern).toBe('hi old');

    const sub = modern.subscribe('to.new', { max: 1 });
    await modern.flush();
    old.publish('to.new', 'hi new');
    for await (const msg of sub) expect(sc.decode(msg.data)).toBe('hi new');
  });

  it('makes requests through its muxed inbox', async () => {
    const service = modern.subscribe('legacy.svc');
    (async () => {
      for await (const msg of service) msg.respond(sc.encode(`re:${sc.decode(msg.data)}`));
    })();
    await modern.flush();
    const answer = await new Promise<unknown>((resolve) => old.request('legacy.svc', 'q', { max: 1 }, resolve));
    expect(answer).toBe('re:q');
    service.unsubscribe();
  });

  it('receives header messages as plain MSG without the headers', async () => {
    const got = new Promise<string>((resolve) => old.subscribe('hdr.old', {}, (msg) => resolve(msg)));
    await flushed(old);
    const { headers } = await import('nats');
    const h = headers();
    h.set('A', 'b');
    modern.publish('hdr.old', sc.encode('just body'), { headers: h });
    expect(await got).toBe('just body');
  });
});
