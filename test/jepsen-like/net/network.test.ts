// Proves the chaos network on real tstan NATS routes: servers meshed only through the link
// proxies pass messages; a blocked direction drops messages one way only while the route stays
// up; delay with jitter keeps order; a cut link tears routes down until healed; and a server that
// learns of a peer only by gossip dials the sink, never the peer, so no route bypasses a fault.
// Every wait is on a condition with a bound.
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type NatsConnection, type Subscription } from 'nats';
import { EmbeddedNatsServer } from '../../../src/transport/nats/server.js';
import { noRoutes } from '../../../src/transport/nats/routes.js';
import { silentLogger } from '../../../src/util/logger.js';
import { freePort } from '../../support/ports.js';
import { until } from '../../support/embedded.js';
import { ChaosNetwork } from './network.js';

interface Mesh {
  readonly network: ChaosNetwork;
  readonly servers: Map<string, EmbeddedNatsServer>;
  readonly clients: Map<string, NatsConnection>;
}

/** Servers named `ids`; `routes(id)` picks which peers each dials (default: all), always through its proxies. */
async function startMesh(ids: readonly string[], dials: (id: string) => readonly string[] = (id) => ids.filter((x) => x !== id)): Promise<Mesh> {
  const ports = new Map<string, number>();
  for (const id of ids) ports.set(id, await freePort());
  const network = await ChaosNetwork.create(ports, 7);
  const servers = new Map<string, EmbeddedNatsServer>();
  const clients = new Map<string, NatsConnection>();
  for (const id of ids) {
    const routes = network.routesOf(id).filter((_, i) => dials(id).includes(ids.filter((x) => x !== id)[i]!));
    const server = new EmbeddedNatsServer({ host: '127.0.0.1', port: -1 }, silentLogger(), {
      ...noRoutes, listenHost: '127.0.0.1', listenPort: ports.get(id)!, name: 'chaos', routes, advertise: network.advertise,
    });
    await server.start();
    servers.set(id, server);
  }
  for (const [id, server] of servers) clients.set(id, await connect({ port: server.port }));
  return { network, servers, clients };
}

async function received(sub: Subscription, count: number, timeoutMs = 10_000): Promise<void> {
  await until(() => sub.getReceived() >= count, timeoutMs, `${count} messages`);
}

describe('chaos network over tstan routes', () => {
  let mesh: Mesh | undefined;
  afterEach(async () => {
    if (mesh === undefined) return;
    for (const client of mesh.clients.values()) await client.close();
    for (const server of mesh.servers.values()) await server.shutdown();
    await mesh.network.close();
    mesh = undefined;
  });

  const routed = (m: Mesh, id: string, peers: number) => until(() => m.servers.get(id)!.routes.routes.size === peers, 15_000, `${id} routed to ${peers}`);

  it('blocks one direction only, keeps the route up, delays in order, and cuts and heals', async () => {
    const m = (mesh = await startMesh(['a', 'b']));
    await routed(m, 'a', 1);
    await routed(m, 'b', 1);
    const [a, b] = [m.clients.get('a')!, m.clients.get('b')!];
    const onB = b.subscribe('to.b');
    const onA = a.subscribe('to.a');
    await Promise.all([a.flush(), b.flush()]);
    await until(() => m.servers.get('a')!.hasInterest('to.b') && m.servers.get('b')!.hasInterest('to.a'), 10_000, 'interest');

    m.network.block('a', 'b');
    for (let i = 0; i < 20; i++) a.publish('to.b', String(i));
    for (let i = 0; i < 20; i++) b.publish('to.a', String(i));
    await Promise.all([a.flush(), b.flush()]);
    await received(onA, 20);
    await until(() => m.network.stats().framesDropped >= 20, 10_000, 'the blocked messages dropped at the proxy');
    // A marker sent after the blocked messages, once unblocked, arrives first: the 20 were dropped.
    m.network.heal();
    a.publish('to.b', 'marker');
    await a.flush();
    await received(onB, 1);
    expect(onB.getReceived()).toBe(1);
    expect(m.servers.get('a')!.routes.routes.size).toBe(1);

    const got: string[] = [];
    const ordered = b.subscribe('ordered', { callback: (_e, msg) => got.push(msg.string()) });
    await b.flush();
    await until(() => m.servers.get('a')!.hasInterest('ordered'), 10_000, 'interest in ordered');
    m.network.degrade('a', 'b', { delayMs: 30, jitterMs: 25, dropProbability: 0 });
    for (let i = 0; i < 200; i++) a.publish('ordered', String(i));
    await a.flush();
    await received(ordered, 200);
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
    expect(m.network.stats().framesDelayed).toBeGreaterThan(0);

    m.network.cut('a', 'b');
    await routed(m, 'a', 0);
    m.network.heal();
    await routed(m, 'a', 1);
    await routed(m, 'b', 1);
  }, 60_000);

  it('leads route gossip to the sink: a server told of a peer only by gossip never dials it', async () => {
    // c dials b only; b's gossip tells c about a (and a about c), whose advertised address is the sink.
    const m = (mesh = await startMesh(['a', 'b', 'c'], (id) => (id === 'c' ? ['b'] : id === 'a' ? ['b'] : ['a', 'c'])));
    await routed(m, 'b', 2);
    await until(() => m.network.stats().gossipDialsSunk > 0, 10_000, 'a gossip dial into the sink');
    expect(m.servers.get('a')!.routes.routes.size).toBe(1);
    expect(m.servers.get('c')!.routes.routes.size).toBe(1);
  }, 60_000);
});
