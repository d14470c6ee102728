// Proves a restarted server keeps serving the subjects its store recorded (older servers wrote
// NUID-based ones into server.dat, and clients were told them): a store is seeded with such
// subjects, the server starts on it, and a node-nats-streaming client is handed and uses them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StanServer } from '../../src/server/server.js';
import { openFileStore } from '../../src/store/file/file-store.js';
import { defaultStoreLimits } from '../../src/store/limits.js';
import { EmbeddedNatsServer } from '../../src/transport/nats/server.js';
import { silentLogger } from '../../src/util/logger.js';
import { closeClient, dataOf, publish, stan, subscribe, waitFor, type StanMessage } from './harness.js';

describe('subjects recovered from server.dat', () => {
  const logger = silentLogger();
  const storeOptions = (dir: string) => ({ dir, limits: defaultStoreLimits(), clock: { nowNs: () => BigInt(Date.now()) * 1_000_000n }, logger });
  let dir: string;
  let nats: EmbeddedNatsServer;
  let server: StanServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tstan-subjects-'));
    const seed = openFileStore(storeOptions(dir));
    await seed.recover();
    await seed.init({
      clusterId: 'test-cluster',
      discovery: '_STAN.discover.test-cluster',
      publish: '_STAN.pub.OLDNUID1',
      subscribe: '_STAN.sub.OLDNUID2',
      unsubscribe: '_STAN.unsub.OLDNUID3',
      close: '_STAN.close.OLDNUID4',
      subClose: '_STAN.subclose.OLDNUID5',
      acksSubs: '_STAN.ack.OLDNUID6',
      nodeId: '',
    });
    await seed.close();
    nats = new EmbeddedNatsServer({ host: '127.0.0.1', port: -1 }, logger);
    await nats.start();
    server = new StanServer(nats.connector(), async (settings) => openFileStore({ ...storeOptions(dir), ...settings }), { skipServerProbe: true }, logger);
    await server.start();
  });

  afterAll(async () => {
    await server.shutdown();
    await nats.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hands the recorded subjects to clients and serves them', async () => {
    expect(server.subjects.pubPrefix).toBe('_STAN.pub.OLDNUID1');
    expect(server.subjects.subRequests).toBe('_STAN.sub.OLDNUID2');
    const client = stan.connect('test-cluster', 'old-subjects', { url: `nats://127.0.0.1:${nats.port}` });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', (error: Error) => reject(error));
    });
    expect((client as unknown as { pubPrefix: string }).pubPrefix).toBe('_STAN.pub.OLDNUID1');
    // The server subscribes under the recorded prefixes, not the ones computed from the cluster ID.
    expect(nats.hasInterest('_STAN.pub.OLDNUID1.orders')).toBe(true);
    expect(nats.hasInterest('_STAN.pub.test-cluster.orders')).toBe(false);
    await publish(client, 'orders', 'via old subjects');
    const got: StanMessage[] = [];
    await subscribe(client, 'orders', client.subscriptionOptions().setDeliverAllAvailable(), undefined, (msg) => got.push(msg));
    await waitFor(() => got.length === 1, 5000, 'the stored message');
    expect(dataOf(got)).toEqual(['via old subjects']);
    await closeClient(client);
  });
});
