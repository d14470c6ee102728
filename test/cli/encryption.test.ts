// Proves encryption at rest through the real command and the published client: node-nats-streaming
// publishes and reads back on an encrypted FILE store, across a restart, while no payload is on
// disk in clear; a wrong key stops start-up with one line naming the channel; a missing key is
// refused as the reference refuses it; the key shows in no log line, no -t output, no /varz; a
// MEMORY store takes -encrypt too, as the reference's does.
import { createRequire } from 'node:module';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTstan, startTstan, type TstanProcess } from '../support/tstan-process.js';
import { until } from '../support/embedded.js';

const require = createRequire(import.meta.url);
interface StanMsg {
  getData(): string | Buffer;
  getSequence(): number;
}
interface StanSub {
  on(event: 'message', handler: (msg: StanMsg) => void): void;
  close(): void;
}
interface StanOptions {
  setDeliverAllAvailable(): StanOptions;
  setMaxInFlight(n: number): StanOptions;
}
interface StanConnection {
  on(event: string, handler: (...args: unknown[]) => void): void;
  publish(subject: string, data: string, callback: (error: Error | undefined) => void): string;
  subscriptionOptions(): StanOptions;
  subscribe(subject: string, options: StanOptions): StanSub;
  close(): void;
}
const stan = require('node-nats-streaming') as {
  connect(cluster: string, client: string, options: Record<string, unknown>): StanConnection;
};

const KEY = 'correct horse battery staple';
const CLUSTER = 'enc-cluster';
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tstan-encrypt-'));
  dirs.push(dir);
  return dir;
}

function connectStan(port: number, client: string): Promise<StanConnection> {
  const sc = stan.connect(CLUSTER, client, { url: `nats://127.0.0.1:${port}`, reconnect: false, maxReconnectAttempts: 0 });
  return new Promise((resolve, reject) => {
    sc.on('connect', () => resolve(sc));
    sc.on('error', (error) => reject(error as Error));
  });
}

async function publishAll(sc: StanConnection, channel: string, payloads: string[]): Promise<void> {
  await Promise.all(payloads.map((p) => new Promise<void>((resolve, reject) => sc.publish(channel, p, (error) => (error ? reject(error) : resolve())))));
}

async function readAll(node: TstanProcess, client: string, channel: string, count: number): Promise<string[]> {
  const sc = await connectStan(node.port, client);
  const seen: string[] = [];
  const sub = sc.subscribe(channel, sc.subscriptionOptions().setDeliverAllAvailable().setMaxInFlight(10_000));
  sub.on('message', (msg) => seen.push(String(msg.getData())));
  await until(() => seen.length >= count, 15_000, `${count} messages on ${channel}`);
  sc.close();
  return seen;
}

function filesUnder(root: string): Buffer {
  const parts: Buffer[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else parts.push(readFileSync(path));
    }
  };
  walk(root);
  return Buffer.concat(parts);
}

const payloads = Array.from({ length: 60 }, (_, i) => `order-secret-${i}-${'z'.repeat(i)}`);

describe('encryption at rest through the tstan command', () => {
  it('stores sealed payloads, delivers them in clear, across a restart; wrong key stops start-up', async () => {
    const dir = tempDir();
    const args = ['-cid', CLUSTER, '-store', 'file', '-dir', dir, '-encrypt'];
    let node = await startTstan(['-D', ...args], { env: { NATS_STREAMING_ENCRYPTION_KEY: KEY } });
    try {
      const writer = await connectStan(node.port, 'writer');
      await publishAll(writer, 'orders', payloads);
      expect(await readAll(node, 'reader-1', 'orders', payloads.length)).toEqual(payloads);
      writer.close();
      expect(await node.stop()).toBe(0);
      // The debug log printed the effective configuration: redacted.
      expect(node.output()).toContain('effective configuration');
      expect(node.output()).not.toContain(KEY);

      const disk = filesUnder(dir);
      expect(disk.includes('orders')).toBe(true);
      expect(disk.includes('order-secret')).toBe(false);

      // A wrong key: one line naming the channel, exit 1, neither key in the output.
      const wrong = await runTstan([...args, '-a', '127.0.0.1', '-p', '-1'], { env: { NATS_STREAMING_ENCRYPTION_KEY: 'not the key' } });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/^tstan: channel "orders": message \d+ does not decrypt with the encryption key given/);
      expect(wrong.stderr + wrong.stdout).not.toContain('not the key');

      // The right key, this time as an option (the environment has none): everything back.
      node = await startTstan(['-cid', CLUSTER, '-store', 'file', '-dir', dir, '-encryption_key', KEY]);
      expect(await readAll(node, 'reader-2', 'orders', payloads.length)).toEqual(payloads);
      const varz = await (await fetch(`http://127.0.0.1:${node.httpPort}/varz`)).text();
      expect(varz).not.toContain(KEY);
    } finally {
      await node.stop();
    }
  });

  it('refuses -encrypt without a key, and an unknown cipher, as the reference does', async () => {
    const missing = await runTstan(['-store', 'file', '-dir', tempDir(), '-encrypt', '-t'], { env: { NATS_STREAMING_ENCRYPTION_KEY: '' } });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('encryption key required');
    const cipher = await runTstan(['-encrypt', '-encryption_cipher', 'DES', '-encryption_key', KEY, '-t']);
    expect(cipher.code).toBe(1);
    expect(cipher.stderr).toContain('encryption cipher not supported');
    expect(cipher.stderr).not.toContain(KEY);
    const valid = await runTstan(['-encrypt', '-encryption_cipher', 'chacha', '-encryption_key', KEY, '-t']);
    expect(valid).toMatchObject({ code: 0, stdout: 'configuration is valid\n' });
  });

  it('encrypts a MEMORY store too, delivering in clear', async () => {
    const node = await startTstan(['-cid', CLUSTER, '-encrypt', '-encryption_cipher', 'CHACHA'], { env: { NATS_STREAMING_ENCRYPTION_KEY: KEY } });
    try {
      const writer = await connectStan(node.port, 'writer');
      await publishAll(writer, 'mem', payloads.slice(0, 10));
      expect(await readAll(node, 'reader', 'mem', 10)).toEqual(payloads.slice(0, 10));
      writer.close();
    } finally {
      await node.stop();
    }
  });
});
