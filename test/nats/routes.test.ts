// Proves a 3-node tstan mesh built from one seed URL (the third node found by gossip): messages,
// wildcards, queue groups (exactly once cluster-wide), requests and no-responders cross nodes
// without duplicates, interest survives a route cut, and a restarted node rejoins.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, StringCodec, type NatsConnection } from 'nats';
import { startMesh, startRouted, stopMesh, type MeshNode } from '../support/mesh.js';
import { until } from '../support/embedded.js';

const sc = StringCodec();

async function drain(sub: { unsubscribe(): void; [Symbol.asyncIterator](): AsyncIterator<{ data: Uint8Array }> }): Promise<string[]> {
  sub.unsubscribe();
  const got: string[] = [];
  for await (const msg of sub as AsyncIterable<{ data: Uint8Array }>) got.push(sc.decode(msg.data));
  return got;
}

describe('3-node tstan mesh', () => {
  let nodes: MeshNode[];
  let clients: NatsConnection[];

  beforeAll(async () => {
    nodes = await startMesh(3);
    clients = await Promise.all(nodes.map((n) => connect({ port: n.port })));
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await stopMesh(nodes);
  });

  it('forms a full mesh from one seed, with every node advertising every client URL', () => {
    for (const node of nodes) {
      expect(node.server.routes.routes.size).toBe(2);
      expect(node.server.connectUrls().sort()).toEqual(nodes.map((n) => `127.0.0.1:${n.port}`).sort());
    }
  });

  it('delivers across nodes to every subscriber once', async () => {
    const [a, b, c] = clients as [NatsConnection, NatsConnection, NatsConnection];
    const onB = b.subscribe('x.*');
    const onC = c.subscribe('x.>');
    const onC2 = c.subscribe('x.one');
    await b.flush();
    await c.flush();
    await until(() => nodes[0]!.server.hasInterest('x.one') && nodes[0]!.server.sublist.match('x.one').plain.length === 3);
    for (let i = 0; i < 50; i++) a.publish('x.one', sc.encode(String(i)));
    await a.flush();
    const expected = Array.from({ length: 50 }, (_, i) => String(i));
    await until(() => onB.getReceived() === 50 && onC.getReceived() === 50 && onC2.getReceived() === 50);
    await b.flush();
    await c.flush();
    expect(await drain(onB)).toEqual(expected);
    expect(await drain(onC)).toEqual(expected);
    expect(await drain(onC2)).toEqual(expected);
  });

  it('gives each message to exactly one member of a queue group spread over three nodes', async () => {
    const subs = clients.map((c) => c.subscribe('jobs', { queue: 'workers' }));
    await Promise.all(clients.map((c) => c.flush()));
    await until(() => nodes.every((n) => n.server.sublist.match('jobs').queues[0]?.length === 3));
    const total = 600;
    for (let i = 0; i < total; i++) clients[i % 3]!.publish('jobs', sc.encode(String(i)));
    await Promise.all(clients.map((c) => c.flush()));
    await until(() => subs.reduce((sum, s) => sum + s.getReceived(), 0) === total);
    await Promise.all(clients.map((c) => c.flush()));
    const all = (await Promise.all(subs.map(drain))).flat();
    expect(all.length).toBe(total);
    expect(new Set(all).size).toBe(total);
    for (const sub of subs) expect(sub.getReceived()).toBeGreaterThan(0);
  });

  it('answers requests across nodes and reports no responders when nobody listens anywhere', async () => {
    const [a, , c] = clients as [NatsConnection, NatsConnection, NatsConnection];
    const svc = c.subscribe('svc.far');
    (async () => {
      for await (const msg of svc) msg.respond(sc.encode(`far:${sc.decode(msg.data)}`));
    })();
    await c.flush();
    await until(() => nodes[0]!.server.hasInterest('svc.far'));
    const reply = await a.request('svc.far', sc.encode('hi'), { timeout: 5000 });
    expect(sc.decode(reply.data)).toBe('far:hi');
    svc.unsubscribe();
    await c.flush();
    await until(() => !nodes[0]!.server.hasInterest('svc.far'));
    await expect(a.request('svc.far', sc.encode('x'), { timeout: 5000 })).rejects.toMatchObject({ code: '503' });
  });

  it('re-establishes a route and its interest after the route connection is cut', async () => {
    const [a, b] = clients as [NatsConnection, NatsConnection, NatsConnection];
    const sub = b.subscribe('after.cut');
    await b.flush();
    await until(() => nodes[0]!.server.hasInterest('after.cut'));
    const bId = nodes[1]!.server.serverId;
    nodes[0]!.server.routes.routes.get(bId)!.close('test cut');
    await until(() => nodes[0]!.server.routes.routes.has(bId) && nodes[0]!.server.hasInterest('after.cut'), 15_000, 'route back');
    a.publish('after.cut', sc.encode('again'));
    await a.flush();
    await until(() => sub.getReceived() === 1);
    expect(await drain(sub)).toEqual(['again']);
  });

  it('lets a killed node rejoin on restart', async () => {
    const victim = nodes[2]!;
    await clients[2]!.close();
    await victim.server.shutdown();
    await until(() => nodes[0]!.server.routes.routes.size === 1 && nodes[1]!.server.routes.routes.size === 1);
    victim.server = await startRouted(victim.clusterPort, victim.routes, { port: victim.port });
    await until(() => nodes.every((n) => n.server.routes.routes.size === 2), 15_000, 'rejoin');
    clients[2] = await connect({ port: victim.port });
    const sub = clients[2].subscribe('rejoined', { max: 1 });
    await clients[2].flush();
    await until(() => nodes[0]!.server.hasInterest('rejoined'));
    clients[0]!.publish('rejoined', sc.encode('welcome back'));
    for await (const msg of sub) expect(sc.decode(msg.data)).toBe('welcome back');
  });
});
