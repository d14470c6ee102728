// Proves a C program on Debian's libnats streaming API (compiled here with cc) publishes to and
// subscribes from tstan, interoperating with node-nats-streaming on the same channel.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { skipWithout } from '../support/test-deps.js';
import { closeClient, collect, dataOf, publish, startHarness, type Harness, type StanClient } from './harness.js';

const run = promisify(execFile);
const source = join(dirname(fileURLToPath(import.meta.url)), 'c', 'stan-pubsub.c');

describe.skipIf(skipWithout('libnats-dev', 'cc'))('C client (libnats streaming)', () => {
  let h: Harness;
  let client: StanClient;
  let dir: string;
  let binary: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tstan-c-'));
    binary = join(dir, 'stan-pubsub');
    await run('cc', ['-std=gnu11', '-O1', '-o', binary, source, '-lnats', '-lpthread']);
    h = await startHarness();
    client = await h.connect('node-side');
  });
  afterAll(async () => {
    if (client) await closeClient(client);
    if (h) await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes and subscribes beside a node client', async () => {
    await publish(client, 'c.chan', 'from-node');
    const nodeSub = client.subscribe('c.chan', client.subscriptionOptions().setDeliverAllAvailable());
    const nodeGot = collect(nodeSub, 6, 15_000);
    const { stdout } = await run(binary, [h.url, h.clusterId, 'c-client', 'c.chan', '5', '6'], { timeout: 20_000 });
    expect(stdout.trim().split('\n')).toEqual(['1 from-node', '2 c-1', '3 c-2', '4 c-3', '5 c-4', '6 c-5']);
    expect(dataOf(await nodeGot)).toEqual(['from-node', 'c-1', 'c-2', 'c-3', 'c-4', 'c-5']);
    // The C client closed its connection properly: the server forgot it.
    expect(h.server.context!.clients.has('c-client')).toBe(false);
  });
});
