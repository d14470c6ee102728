// Proves the server feeds the Prometheus metrics of src/monitor/metrics.ts: message and byte
// counters in and out, redeliveries, store write latency, and the gauges read at scrape time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamingMetrics } from '../../src/monitor/metrics.js';
import { closeClient, collect, publishMany, startHarness, waitFor, type Harness, type StanClient } from './harness.js';

function valueOf(text: string, metric: string): number {
  const line = text.split('\n').find((l) => l.startsWith(metric + ' ') || l.startsWith(metric + '{'));
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('Prometheus metrics', () => {
  let h: Harness;
  let client: StanClient;
  const metrics = new StreamingMetrics({ processMetrics: false });
  beforeAll(async () => {
    h = await startHarness();
    h.server.attachMetrics(metrics);
    client = await h.connect('metered');
  });
  afterAll(async () => {
    await closeClient(client);
    await h.stop();
  });

  it('counts messages in and out, redeliveries and store writes; gauges follow the state', async () => {
    await publishMany(client, 'metered.ch', 3);
    const sub = client.subscribe('metered.ch', client.subscriptionOptions().setDeliverAllAvailable().setManualAckMode(true).setAckWait(1000));
    const msgs = await collect(sub, 4, 8000);
    expect(msgs[3]!.isRedelivered()).toBe(true);
    let text = '';
    await waitFor(() => {
      void metrics.registry.metrics().then((t) => (text = t));
      return valueOf(text, 'tstan_redeliveries_total') >= 1;
    }, 5000, 'counters pushed');
    expect(valueOf(text, 'tstan_messages_in_total')).toBe(3);
    expect(valueOf(text, 'tstan_messages_out_total')).toBeGreaterThanOrEqual(4);
    expect(valueOf(text, 'tstan_clients')).toBe(1);
    expect(valueOf(text, 'tstan_subscriptions')).toBe(1);
    expect(valueOf(text, 'tstan_pending_acks')).toBe(3);
    expect(valueOf(text, 'tstan_channel_messages')).toBe(3);
    expect(valueOf(text, 'tstan_store_write_seconds_count')).toBeGreaterThanOrEqual(1);
    for (const m of msgs) m.ack();
  });
});
