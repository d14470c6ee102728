// Proves through the real command and the published client that the FILE store keeps what was
// acknowledged: tstan is killed with SIGKILL in the middle of a stream of publishes and started
// again on the same directory; every acknowledged message is there, in order, with its sequence,
// and a durable subscription resumes after the last message it acknowledged.
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTstan } from '../support/tstan-process.js';
import { until } from '../support/embedded.js';

const require = createRequire(import.meta.url);
interface StanMsg {
  getData(): string | Buffer;
  getSequence(): number;
  ack(): void;
}
interface StanSub {
  on(event: 'message', handler: (msg: StanMsg) => void): void;
  on(event: 'ready', handler: () => void): void;
  close(): void;
}
interface StanOptions {
  setDeliverAllAvailable(): StanOptions;
  setDurableName(name: string): StanOptions;
  setManualAckMode(on: boolean): StanOptions;
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

function connectStan(port: number, client: string): Promise<StanConnection> {
  const sc = stan.connect('file-crash', client, { url: `nats://127.0.0.1:${port}`, reconnect: false, maxReconnectAttempts: 0 });
  return new Promise((resolve, reject) => {
    sc.on('connect', () => resolve(sc));
    sc.on('error', (error) => reject(error as Error));
  });
}

describe('FILE store through kill -9', () => {
  it('keeps every acknowledged message and the durable position', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tstan-crash-'));
    const args = ['-cid', 'file-crash', '-store', 'file', '-dir', dir];
    let node = await startTstan(args);
    try {
      // A durable reads and acknowledges the first 50 messages, then its client goes away.
      const first = await connectStan(node.port, 'reader');
      const acked: number[] = [];
      const opts = first.subscriptionOptions().setDeliverAllAvailable().setDurableName('dur').setManualAckMode(true);
      const sub = first.subscribe('orders', opts);
      sub.on('message', (msg) => {
        if (msg.getSequence() <= 50) {
          msg.ack();
          acked.push(msg.getSequence());
        }
      });
      const writer = await connectStan(node.port, 'writer');
      const confirmed: number[] = [];
      const total = 2000;
      for (let i = 1; i <= total; i++) {
        writer.publish('orders', `m${i}`, (error) => {
          if (!error) confirmed.push(i);
        });
      }
      await until(() => confirmed.length >= 300 && acked.length === 50, 20_000, 'acks sent before the kill');
      // Acks are fire-and-forget in STAN: wait until the server has processed all 50 ...
      const deadline = Date.now() + 20_000;
      for (;;) {
        const body = (await (await fetch(`http://127.0.0.1:${node.httpPort}/streaming/channelsz?channel=orders&subs=1`)).json()) as {
          subscriptions?: { durable_name: string; last_sent: number; pending_count: number }[];
        };
        const durable = body.subscriptions?.find((s) => s.durable_name === 'dur');
        if (durable && durable.last_sent - durable.pending_count >= 50) break;
        if (Date.now() > deadline) throw new Error('the server never processed the acks');
        await new Promise((r) => setTimeout(r, 20));
      }
      // ... and that they are on disk: a subscription's reply waits for its channel's sub store to
      // be durable, and the store keeps call order, so the acks before it are durable too.
      await new Promise<void>((resolve, reject) => {
        const marker = first.subscribe('orders', first.subscriptionOptions());
        (marker as unknown as { on(e: string, h: (x?: Error) => void): void }).on('ready', () => resolve());
        (marker as unknown as { on(e: string, h: (x?: Error) => void): void }).on('error', (error) => reject(error));
      });
      // The kill comes while publishes are still in flight.
      node.child.kill('SIGKILL');
      await node.stop();
      const acknowledged = [...confirmed];
      expect(acknowledged.length).toBeGreaterThanOrEqual(300);

      node = await startTstan(args);
      const reader = await connectStan(node.port, 'checker');
      const seen: { seq: number; data: string }[] = [];
      const all = reader.subscribe('orders', reader.subscriptionOptions().setDeliverAllAvailable().setMaxInFlight(10_000));
      all.on('message', (msg) => seen.push({ seq: msg.getSequence(), data: String(msg.getData()) }));
      const maxAcked = Math.max(...acknowledged);
      await until(() => seen.length >= maxAcked, 20_000, 'replay of acknowledged messages');
      // Sequences are gapless from 1, payloads are in publish order, and nothing acknowledged is missing.
      seen.forEach((m, index) => {
        expect(m.seq).toBe(index + 1);
        expect(m.data).toBe(`m${index + 1}`);
      });

      // The durable resumes after the 50 it acknowledged.
      const resumed = await connectStan(node.port, 'reader');
      const again: number[] = [];
      const durable = resumed.subscribe('orders', resumed.subscriptionOptions().setDurableName('dur').setManualAckMode(true));
      let subscribeError = '';
      (durable as unknown as { on(e: 'error', h: (err: Error) => void): void }).on('error', (err) => (subscribeError = err.message));
      durable.on('message', (msg) => {
        again.push(msg.getSequence());
        msg.ack();
      });
      (durable as unknown as { on(e: string, h: (x: unknown) => void): void }).on('timeout', (x) => (subscribeError = `timeout ${String(x)}`));
      await until(() => again.length > 0 || subscribeError !== '', 10_000, 'durable redelivery');
      expect(subscribeError).toBe('');
      await until(() => again.length > 0, 10_000, 'durable redelivery');
      expect(Math.min(...again)).toBe(51);
      for (const conn of [reader, resumed]) conn.close();
    } finally {
      await node.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
