// Proves that random credentials and broken TLS handshakes only ever cost the connection that
// sends them, with a clear answer: fast-check (fixed seeds, printed on failure) writes CONNECT
// lines with random users, passwords and tokens of every JSON type, or no JSON at all, to servers
// with bcrypt and plain users and with a token, and cuts real TLS ClientHellos at random bytes,
// with random bytes after, against a TLS server with verify on. Each one gets 'Authorization
// Violation' (or a PONG when it guessed right), or a one-line 'TLS handshake ...' in the log; a
// witness client keeps its service throughout and no connection is left behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createServer } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { once } from 'node:events';
import { connect, StringCodec, type NatsConnection } from 'nats';
import bcrypt from 'bcryptjs';
import { EmbeddedNatsServer } from '../../src/transport/nats/server.js';
import type { NatsServerOptions } from '../../src/transport/nats/options.js';
import { RawClient } from '../support/raw-client.js';
import { captureLog, type CapturedLog } from '../support/log-capture.js';
import { makeCertificates, type TestCertificates } from '../support/certs.js';
import { until } from '../support/embedded.js';
import { skipWithout } from '../support/test-deps.js';
import { serverTls } from './support.js';

const sc = StringCodec();

/** What the log says of a handshake that did not finish: the cause in one line. */
const clearReason = /^(TLS handshake (timeout|error: .+)|connection closed before the TLS handshake)$/;

async function start(options: Partial<NatsServerOptions>, log: CapturedLog): Promise<EmbeddedNatsServer> {
  const server = new EmbeddedNatsServer({ host: '127.0.0.1', port: -1, authTimeoutMs: 2_000, ...options }, log.logger);
  await server.start();
  return server;
}

async function stillServes(witness: NatsConnection, subject: string): Promise<void> {
  const sub = witness.subscribe(subject, { max: 1 });
  witness.publish(subject, sc.encode('alive'));
  for await (const msg of sub) expect(sc.decode(msg.data)).toBe('alive');
}

/** A JSON value of any type, strings with any characters: what a credential field may be sent as. */
const anyJson = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }));

describe('fuzzing CONNECT credentials', () => {
  const users = [
    { user: 'alice', password: bcrypt.hashSync('alice-pw', 4), permissions: null, connectionTypes: [] },
    { user: 'bob', password: 'bob-pw', permissions: null, connectionTypes: [] },
  ];
  const good = [{ user: 'alice', pass: 'alice-pw' }, { user: 'bob', pass: 'bob-pw' }];

  for (const [kind, options] of [['users (bcrypt and plain)', { users }], ['a token', { authToken: 'the-token' }]] as const) {
    it(`answers every CONNECT with a verdict and keeps serving (${kind})`, async () => {
      const log = captureLog('warn');
      const server = await start(options, log);
      const witnessCredentials = kind === 'a token' ? { token: 'the-token' } : { user: 'bob', pass: 'bob-pw' };
      const witness = await connect({ port: server.port, ...witnessCredentials });
      try {
        const credentials = fc.oneof(
          fc.record({ user: anyJson, pass: anyJson, auth_token: anyJson }, { requiredKeys: [] }),
          fc.constantFrom<Record<string, unknown>>(...good, { auth_token: 'the-token' }),
        );
        const line = fc.oneof(
          { weight: 5, arbitrary: credentials.map((fields) => JSON.stringify({ verbose: false, ...fields })) },
          { weight: 1, arbitrary: fc.string({ maxLength: 60 }).filter((text) => !text.includes('\n')) },
        );
        await fc.assert(
          fc.asyncProperty(line, async (json) => {
            const client = await RawClient.open(server.port);
            client.send(`CONNECT ${json}\r\nPING\r\n`);
            await Promise.race([client.waitFor(/PONG\r\n|-ERR '[^']+'\r\n/), client.waitClosed()]);
            const answer = /PONG\r\n|-ERR '[^']+'/.exec(client.received.slice(client.received.indexOf('\r\n') + 2))?.[0] ?? 'closed';
            client.close();
            expect(['PONG\r\n', "-ERR 'Authorization Violation'", "-ERR 'Unknown Protocol Operation'"]).toContain(answer);
            await until(() => server.clients.size === 1, 5_000, 'the fuzzed connection gone');
          }),
          { numRuns: 80, seed: 1616 },
        );
        await stillServes(witness, 'witness.credentials');
        expect(log.lines.filter((entry) => entry['level'] === 50 || entry['level'] === 60)).toEqual([]);
      } finally {
        await witness.close();
        await server.shutdown();
      }
    });
  }
});

describe.skipIf(skipWithout('openssl'))('fuzzing TLS handshakes cut at random bytes', () => {
  let certs: TestCertificates;
  let hello: Buffer;

  beforeAll(async () => {
    certs = makeCertificates();
    // A real ClientHello, as Node's TLS (under every Node NATS client) sends it.
    const recorder = createServer();
    recorder.listen(0, '127.0.0.1');
    await once(recorder, 'listening');
    const address = recorder.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const accepted = once(recorder, 'connection');
    const client = connectTls({ port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false });
    client.on('error', () => undefined);
    const [socket] = (await accepted) as [import('node:net').Socket];
    [hello] = (await once(socket, 'data')) as [Buffer];
    client.destroy();
    socket.destroy();
    recorder.close();
  });
  afterAll(() => certs?.remove());

  it('logs one clear line per broken handshake and keeps serving TLS clients', async () => {
    const log = captureLog('warn');
    const server = await start({ tls: serverTls(certs, { verify: true, timeoutMs: 250 }) }, log);
    const witness = await connect({ port: server.port, tls: { caFile: certs.caFile, certFile: certs.clientCert, keyFile: certs.clientKey } });
    try {
      expect(hello[0]).toBe(0x16);
      const broken = fc.record({
        cut: fc.integer({ min: 1, max: hello.length - 1 }),
        garbage: fc.uint8Array({ maxLength: 64 }),
        hangUp: fc.boolean(),
      });
      // Every broken handshake ends in exactly one warning; counted from before each run, as
      // fast-check's shrinking replays runs.
      const handshakeLines = (): string[] => log.lines.map((entry) => String(entry['msg']));
      await fc.assert(
        fc.asyncProperty(broken, async ({ cut, garbage, hangUp }) => {
          const before = handshakeLines().length;
          const client = await RawClient.open(server.port);
          client.send(Buffer.concat([hello.subarray(0, cut), garbage]));
          if (hangUp) client.close();
          await until(() => handshakeLines().length > before, 5_000, 'the handshake failure logged');
          await client.waitClosed();
          expect(handshakeLines().slice(before)).toEqual([expect.stringMatching(clearReason)]);
          expect(server.clients.size).toBe(1);
        }),
        { numRuns: 40, seed: 2929 },
      );
      await stillServes(witness, 'witness.tls');
    } finally {
      await witness.close();
      await server.shutdown();
    }
  });
});
