// Proves a restart over the FILE store restores clients, channels and durable subscriptions: the
// connected client keeps publishing with its old connection, unacked messages come back flagged
// as redelivered, and sequences continue. NATS stays up; only the streaming server restarts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StanServer } from '../../src/server/server.js';
import { openFileStore } from '../../src/store/file/file-store.js';
import { defaultStoreLimits } from '../../src/store/limits.js';
import { EmbeddedNatsServer } from '../../src/transport/nats/server.js';
import { silentLogger } from '../../src/util/logger.js';
import { publish, publishMany, stan, waitFor, type StanClient, type StanMessage } from './harness.js';

describe('restart over the FILE store', () => {
  const logger = silentLogger();
  let dir: string;
  let nats: EmbeddedNatsServer;
  let client: StanClient | undefined;

  async function startStan(): Promise<StanServer> {
    const server = new StanServer(nats.connector(), async (settings) => openFileStore({ dir, limits: defaultStoreLimits(), ...settings, logger }), { hbIntervalMs: 60_000 }, logger);
    await server.start();
    return server;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tstan-restart-'));
    nats = new EmbeddedNatsServer({ host: '127.0.0.1', port: -1 }, logger);
    await nats.start();
  });
  afterAll(async () => {
    client?.nc.close();
    await nats.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('restores the client and its durable with pending messages', async () => {
    const first = await startStan();
    const c = stan.connect('test-cluster', 'survivor', { url: `nats://127.0.0.1:${nats.port}` });
    client = c;
    await new Promise<void>((resolve) => c.once('connect', () => resolve()));
    const got: StanMessage[] = [];
    const sub = c.subscribe('kept', c.subscriptionOptions().setDurableName('dur').setDeliverAllAvailable()
      .setManualAckMode(true).setAckWait(1000));
    sub.on('message', (m: StanMessage) => got.push(m));
    await new Promise<void>((resolve) => sub.once('ready', () => resolve()));
    await publishMany(c, 'kept', 3);
    await waitFor(() => got.length === 3, 5000, 'three messages');
    got[0]!.ack();
    await waitFor(() => first.context!.subsByAckInbox.values().next().value?.pending.size === 2, 5000, 'ack processed');
    await first.shutdown();

    const second = await startStan();
    try {
      expect(second.context!.clients.has('survivor')).toBe(true);
      // Sequences 2 and 3 were never acked: the restarted server redelivers them once their
      // AckWait, counted from the message timestamps, has passed.
      const restartIndex = got.length;
      const redeliveredAfterRestart = (): number[] =>
        [...new Set(got.slice(restartIndex).filter((m) => m.isRedelivered()).map((m) => m.getSequence()))].sort();
      await waitFor(() => redeliveredAfterRestart().length === 2, 8000, 'redeliveries');
      expect(redeliveredAfterRestart()).toEqual([2, 3]);
      for (const m of got.slice(restartIndex)) m.ack();
      // The old connection's publishes are still valid and the channel continues at 4.
      const beforePublish = got.length;
      await publish(c, 'kept', 'after restart');
      await waitFor(() => got.slice(beforePublish).some((m) => m.getSequence() === 4), 5000, 'new message');
      const fresh = got.slice(beforePublish).find((m) => m.getSequence() === 4)!;
      expect(String(fresh.getData())).toBe('after restart');
      expect(fresh.isRedelivered()).toBe(false);
    } finally {
      client = undefined;
      c.nc.close();
      await second.shutdown();
    }
  });
});
