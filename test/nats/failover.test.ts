// Proves a client given every node's URL (or only one, learning the rest from connect_urls)
// survives the loss of the node it was connected to: it reconnects to another node, its
// subscription is restored there, and messages published elsewhere in the mesh reach it.
import { describe, expect, it } from 'vitest';
import { connect, Events, StringCodec } from 'nats';
import { startMesh, stopMesh } from '../support/mesh.js';
import { until } from '../support/embedded.js';

const sc = StringCodec();

describe('client failover across the mesh', () => {
  for (const how of ['every URL given', 'URLs learned from INFO'] as const) {
    it(`moves to a surviving node (${how})`, async () => {
      const nodes = await startMesh(3);
      try {
        const servers = how === 'every URL given' ? nodes.map((n) => `127.0.0.1:${n.port}`) : [`127.0.0.1:${nodes[0]!.port}`];
        const client = await connect({ servers, noRandomize: true, reconnectTimeWait: 50, maxReconnectAttempts: -1 });
        expect(client.getServer()).toBe(`127.0.0.1:${nodes[0]!.port}`);
        const sub = client.subscribe('survive');
        await client.flush();
        await until(() => nodes[1]!.server.hasInterest('survive'));
        const reconnected = (async () => {
          for await (const status of client.status()) if (status.type === Events.Reconnect) return;
        })();
        await nodes[0]!.server.shutdown();
        await reconnected;
        await client.flush();
        expect(client.getServer()).not.toBe(`127.0.0.1:${nodes[0]!.port}`);
        const publisher = await connect({ port: nodes[2]!.port });
        await until(() => nodes[2]!.server.hasInterest('survive'), 10_000, 'interest restored');
        publisher.publish('survive', sc.encode('still reachable'));
        await publisher.flush();
        await until(() => sub.getReceived() === 1);
        await publisher.close();
        await client.close();
      } finally {
        await stopMesh(nodes);
      }
    });
  }
});
