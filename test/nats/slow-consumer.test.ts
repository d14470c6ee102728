// Proves a consumer that stops reading is closed as a slow consumer once its pending bytes pass
// the limit, while the publisher and a healthy subscriber on the same subject keep their service.
import { describe, expect, it } from 'vitest';
import { connect } from 'nats';
import { startEmbedded, until } from '../support/embedded.js';
import { RawClient } from '../support/raw-client.js';

describe('slow consumers', () => {
  it('closes the stuck subscriber and keeps serving the healthy one', async () => {
    const server = await startEmbedded({ maxPendingBytes: 4 * 1024 * 1024 });
    try {
      const stuck = await RawClient.open(server.port);
      stuck.send('CONNECT {}\r\nSUB flood 1\r\nPING\r\n');
      await stuck.waitFor(/PONG\r\n/);
      stuck.socket.pause();

      const healthy = await connect({ port: server.port });
      let received = 0;
      healthy.subscribe('flood', { callback: () => void received++ });
      await healthy.flush();

      const publisher = await connect({ port: server.port });
      const payload = new Uint8Array(1024);
      const total = 30_000;
      for (let i = 0; i < total; i++) {
        publisher.publish('flood', payload);
        if (i % 1000 === 999) await publisher.flush();
      }
      await publisher.flush();
      await until(() => received === total, 20_000, 'healthy subscriber to receive everything');
      expect(server.counters.slowConsumers).toBe(1);
      expect(server.clients.size).toBe(2);
      stuck.close();
      await publisher.close();
      await healthy.close();
    } finally {
      await server.shutdown();
    }
  });
});
