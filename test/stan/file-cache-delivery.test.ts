// Proves that subscribers over the FILE store get every message, in order and intact, whether the
// server serves it from its cache of recent messages or reads it back from the disk: a cache far
// too small for the backlog (catch-up reads the disk), and the default cache (everything from
// memory), each with a subscriber that catches up on a backlog and one that gets messages live.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StanServer } from '../../src/server/server.js';
import { openFileStore } from '../../src/store/file/file-store.js';
import { defaultStoreLimits } from '../../src/store/limits.js';
import { EmbeddedNatsServer } from '../../src/transport/nats/server.js';
import { silentLogger } from '../../src/util/logger.js';
import { publishMany, stan, waitFor, type StanClient, type StanMessage } from './harness.js';

describe('delivery over the FILE store, from the cache and from the disk', () => {
  const logger = silentLogger();
  let nats: EmbeddedNatsServer;
  const dirs: string[] = [];

  beforeAll(async () => {
    nats = new EmbeddedNatsServer({ host: '127.0.0.1', port: -1 }, logger);
    await nats.start();
  });
  afterAll(async () => {
    await nats.shutdown();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  function collect(client: StanClient, channel: string, got: StanMessage[]): Promise<void> {
    const sub = client.subscribe(channel, client.subscriptionOptions().setDeliverAllAvailable().setMaxInFlight(50));
    sub.on('message', (m: StanMessage) => got.push(m));
    return new Promise((resolve) => sub.once('ready', () => resolve()));
  }

  function expectAll(got: StanMessage[], count: number, prefix: string): void {
    expect(got.map((m) => m.getSequence())).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    expect(got.map((m) => String(m.getData()))).toEqual(Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`));
    expect(got.some((m) => m.isRedelivered())).toBe(false);
  }

  for (const { name, cacheBytesMax } of [
    { name: 'a cache far smaller than the backlog', cacheBytesMax: 4_096 },
    { name: 'the default cache', cacheBytesMax: undefined },
  ]) {
    it(`every subscriber gets every message with ${name}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tstan-cache-'));
      dirs.push(dir);
      const file = cacheBytesMax === undefined ? {} : { cacheBytesMax };
      const server = new StanServer(nats.connector(), async (settings) => openFileStore({ dir, file, limits: defaultStoreLimits(), ...settings, logger }), { hbIntervalMs: 60_000 }, logger);
      await server.start();
      const client = stan.connect('test-cluster', 'cache-test', { url: `nats://127.0.0.1:${nats.port}` });
      await new Promise<void>((resolve) => client.once('connect', () => resolve()));
      try {
        const live: StanMessage[] = [];
        await collect(client, 'backlog', live);
        await publishMany(client, 'backlog', 600, 'message-with-some-padding-');
        const late: StanMessage[] = [];
        await collect(client, 'backlog', late);
        await waitFor(() => live.length >= 600 && late.length >= 600, 10_000, 'all messages');
        expectAll(live, 600, 'message-with-some-padding-');
        expectAll(late, 600, 'message-with-some-padding-');
      } finally {
        client.nc.close();
        await server.shutdown();
      }
    });
  }
});
