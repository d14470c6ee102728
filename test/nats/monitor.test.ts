// Proves the monitoring port serves nats-server's /varz, /connz, /subsz and /healthz fields for
// what the server has, that -p -1 / -m -1 pick free ports, and that the ports file names them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import type { EmbeddedNatsServer } from '../../src/transport/nats/server.js';
import { startEmbedded } from '../support/embedded.js';

async function getJson(port: number, path: string): Promise<Record<string, unknown>> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

describe('monitoring endpoints', () => {
  let server: EmbeddedNatsServer;
  let client: NatsConnection;
  let portsDir: string;

  beforeAll(async () => {
    portsDir = mkdtempSync(join(tmpdir(), 'tstan-ports-'));
    server = await startEmbedded({ httpPort: -1, httpHost: '127.0.0.1', portsFileDir: portsDir });
    client = await connect({ port: server.port, name: 'monitored' });
    client.subscribe('mon.a');
    client.subscribe('mon.b', { queue: 'g' });
    client.publish('mon.a', new Uint8Array(10));
    await client.flush();
  });

  afterAll(async () => {
    await client.close();
    await server.shutdown();
    rmSync(portsDir, { recursive: true, force: true });
  });

  it('writes the bound ports to the ports file', () => {
    const file = readdirSync(portsDir).find((name) => name.endsWith('.ports'));
    expect(file).toBeDefined();
    const ports = JSON.parse(readFileSync(join(portsDir, file!), 'utf8')) as Record<string, string[]>;
    expect(ports['nats']).toEqual([`nats://127.0.0.1:${server.port}`]);
    expect(ports['monitoring']).toEqual([`http://127.0.0.1:${server.httpPort}`]);
    expect(server.port).toBeGreaterThan(0);
    expect(server.httpPort).toBeGreaterThan(0);
  });

  it('serves /varz with counters', async () => {
    const varz = await getJson(server.httpPort, '/varz');
    expect(varz).toMatchObject({ server_id: server.serverId, port: server.port, max_payload: 1024 * 1024, connections: 1 });
    expect(varz['in_msgs']).toBeGreaterThanOrEqual(1);
    expect(varz['subscriptions']).toBe(2);
    expect(typeof varz['uptime']).toBe('string');
  });

  it('serves /connz with the client name and its subscriptions', async () => {
    const connz = await getJson(server.httpPort, '/connz?subs=1');
    const connections = connz['connections'] as Record<string, unknown>[];
    const mine = connections.find((c) => c['name'] === 'monitored');
    expect(mine).toMatchObject({ subscriptions: 2, lang: 'nats.js' });
    expect((mine!['subscriptions_list'] as string[]).sort()).toEqual(['mon.a', 'mon.b']);
  });

  it('serves /subsz and /healthz', async () => {
    const subsz = await getJson(server.httpPort, '/subsz?subs=1');
    expect(subsz['num_subscriptions']).toBe(2);
    expect(subsz['subscriptions_list']).toHaveLength(2);
    expect(await getJson(server.httpPort, '/healthz')).toEqual({ status: 'ok' });
  });

  it('answers 400 to a bad query and 404 to an unknown path', async () => {
    expect((await fetch(`http://127.0.0.1:${server.httpPort}/connz?limit=abc`)).status).toBe(400);
    expect((await fetch(`http://127.0.0.1:${server.httpPort}/nope`)).status).toBe(404);
  });
});
