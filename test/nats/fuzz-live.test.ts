// Proves random bytes and random protocol fragments sent to a live server only ever cost the
// sending connection: the server keeps running and a witness client keeps its service.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { connect, StringCodec } from 'nats';
import { startEmbedded } from '../support/embedded.js';
import { RawClient } from '../support/raw-client.js';

const sc = StringCodec();
const fragments = ['CONNECT {}\r\n', 'PUB a 3\r\nabc\r\n', 'SUB a 1\r\n', 'UNSUB 1\r\n', 'PING\r\n', 'HPUB a 2 1\r\n', 'PUB', ' ', '\r\n', 'MSG', '-1', '99999999999'];

describe('live fuzzing', () => {
  it('survives random input on many connections', async () => {
    const server = await startEmbedded({ maxPayloadBytes: 4096 });
    const witness = await connect({ port: server.port });
    try {
      const input = fc.array(
        fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(...fragments).map((f) => Buffer.from(f))),
        { minLength: 1, maxLength: 12 },
      );
      const samples = fc.sample(input, { numRuns: 60, seed: 42 });
      for (const chunks of samples) {
        const client = await RawClient.open(server.port);
        for (const chunk of chunks) client.send(chunk);
        client.send('PING\r\n');
        // Either the server answers the trailing PING or it closes this connection: never a hang.
        await Promise.race([client.waitFor(/PONG\r\n|-ERR/), client.waitClosed()]).catch(() => undefined);
        client.close();
        const sub = witness.subscribe('witness.check', { max: 1 });
        witness.publish('witness.check', sc.encode('alive'));
        for await (const msg of sub) expect(sc.decode(msg.data)).toBe('alive');
      }
      expect(server.isRunning).toBe(true);
    } finally {
      await witness.close();
      await server.shutdown();
    }
  });
});
