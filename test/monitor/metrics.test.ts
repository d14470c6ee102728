// Proves the per-server Prometheus metrics: each StreamingMetrics has its own registry (two
// instances never share values, the default registry stays empty), counters and the store write
// histogram record what the server reports, gauges read their source at scrape time, and the
// /metrics handler answers in Prometheus text format over a real HTTP server.
import { afterEach, describe, expect, it } from 'vitest';
import { register as defaultRegistry } from 'prom-client';
import { MonitorHttpServer, RawResponse } from '../../src/monitor/http-server.js';
import { METRICS_PATH, StreamingMetrics, type ChannelDepth } from '../../src/monitor/metrics.js';
import { silentLogger } from '../../src/util/logger.js';

function valueOf(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('StreamingMetrics', () => {
  let server: MonitorHttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('counts traffic, redeliveries and store write latency per instance', async () => {
    const a = new StreamingMetrics({ processMetrics: false });
    const b = new StreamingMetrics({ processMetrics: false });
    a.recordPublished(3, 300);
    a.recordPublished(2, 20);
    a.recordDelivered(4, 40);
    a.recordRedelivered(1);
    a.observeStoreWriteSeconds(0.0003);
    a.observeStoreWriteNs(0n, 2_000_000n);
    const text = await a.render();
    expect(valueOf(text, 'tstan_messages_in_total')).toBe(5);
    expect(valueOf(text, 'tstan_bytes_in_total')).toBe(320);
    expect(valueOf(text, 'tstan_messages_out_total')).toBe(4);
    expect(valueOf(text, 'tstan_bytes_out_total')).toBe(40);
    expect(valueOf(text, 'tstan_redeliveries_total')).toBe(1);
    expect(valueOf(text, 'tstan_store_write_seconds_count')).toBe(2);
    expect(valueOf(text, 'tstan_store_write_seconds_bucket{le="0.0005"}')).toBe(1);
    expect(valueOf(text, 'tstan_store_write_seconds_bucket{le="0.0025"}')).toBe(2);
    expect(valueOf(await b.render(), 'tstan_messages_in_total')).toBe(0);
    expect(defaultRegistry.getMetricsAsArray()).toEqual([]);
  });

  it('reads gauges from the source at scrape time and drops deleted channels', async () => {
    const metrics = new StreamingMetrics({ processMetrics: false, defaultLabels: { node: 'n1' } });
    expect(valueOf(await metrics.render(), 'tstan_clients{node="n1"}')).toBe(0);
    let channels: ChannelDepth[] = [
      { name: 'orders', msgs: 7, bytes: 700 },
      { name: 'audit', msgs: 1, bytes: 10 },
    ];
    metrics.setGaugeSource({ clients: () => 2, channels: () => channels, subscriptions: () => 5, pendingAcks: () => 9 });
    let text = await metrics.render();
    expect(valueOf(text, 'tstan_clients{node="n1"}')).toBe(2);
    expect(valueOf(text, 'tstan_channels{node="n1"}')).toBe(2);
    expect(valueOf(text, 'tstan_subscriptions{node="n1"}')).toBe(5);
    expect(valueOf(text, 'tstan_pending_acks{node="n1"}')).toBe(9);
    expect(valueOf(text, 'tstan_channel_messages{channel="orders",node="n1"}')).toBe(7);
    expect(valueOf(text, 'tstan_channel_bytes{channel="audit",node="n1"}')).toBe(10);
    channels = [{ name: 'orders', msgs: 8, bytes: 800 }];
    text = await metrics.render();
    expect(valueOf(text, 'tstan_channel_messages{channel="orders",node="n1"}')).toBe(8);
    expect(text).not.toContain('channel="audit"');
  });

  it('exports process metrics on its own registry when asked', async () => {
    const metrics = new StreamingMetrics();
    expect(await metrics.render()).toContain('tstan_process_cpu_user_seconds_total');
  });

  it('serves /metrics in Prometheus text format over HTTP', async () => {
    const metrics = new StreamingMetrics({ processMetrics: false });
    metrics.recordPublished(1, 10);
    server = new MonitorHttpServer(silentLogger());
    server.route(METRICS_PATH, metrics.handler());
    const port = await server.listen('127.0.0.1', 0);
    const response = await fetch(`http://127.0.0.1:${port}${METRICS_PATH}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const body = await response.text();
    expect(body).toContain('# TYPE tstan_messages_in_total counter');
    expect(valueOf(body, 'tstan_messages_in_total')).toBe(1);
    expect(await metrics.handler()(new URLSearchParams())).toBeInstanceOf(RawResponse);
  });
});
