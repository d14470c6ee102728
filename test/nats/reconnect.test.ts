// Proves a nats 2.x client reconnects by itself after the server restarts on the same port and
// its subscriptions are honoured by the new server.
import { describe, expect, it } from 'vitest';
import { connect, Events, StringCodec } from 'nats';
import { startEmbedded } from '../support/embedded.js';
import { freePort } from '../support/ports.js';

const sc = StringCodec();

describe('reconnect after a server restart', () => {
  it('resubscribes and receives from the restarted server', async () => {
    const port = await freePort();
    let server = await startEmbedded({ port });
    const client = await connect({ port, reconnectTimeWait: 50, maxReconnectAttempts: -1 });
    const sub = client.subscribe('after.restart', { max: 1 });
    await client.flush();
    const reconnected = (async () => {
      for await (const status of client.status()) if (status.type === Events.Reconnect) return;
    })();
    await server.shutdown();
    server = await startEmbedded({ port });
    try {
      await reconnected;
      await client.flush();
      const publisher = await connect({ port });
      publisher.publish('after.restart', sc.encode('back'));
      await publisher.flush();
      for await (const msg of sub) expect(sc.decode(msg.data)).toBe('back');
      await publisher.close();
      await client.close();
    } finally {
      await server.shutdown();
    }
  });
});
