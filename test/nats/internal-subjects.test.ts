// Proves the nodes' internal subjects (_STAN.raft.>, _STAN.fetch.>) are closed to client sockets:
// real `nats` 2.x clients and raw sockets that publish, reply or subscribe there get nats-server's
// permissions-violation errors with the connection kept open and the attempt logged with their
// address; nothing they publish reaches an in-process subscriber; wildcard client subscriptions
// (`>`, `_STAN.>`) never receive internal messages, on the publishing node or across routes,
// while routes still carry them from node to node and no route carries them to a remote `>`.
import { afterEach, describe, expect, it } from 'vitest';
import { connect, ErrorCode, StringCodec, type NatsConnection as Client, type NatsError, type Status } from 'nats';
import { EmbeddedNatsServer } from '../../src/transport/nats/server.js';
import type { NatsConnection } from '../../src/transport/nats/connection.js';
import { startEmbedded, until } from '../support/embedded.js';
import { startMesh, stopMesh, type MeshNode } from '../support/mesh.js';
import { RawClient } from '../support/raw-client.js';
import { captureLog } from '../support/log-capture.js';

const sc = StringCodec();
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups.length = 0;
});

async function client(port: number): Promise<Client> {
  const nc = await connect({ port, reconnect: false });
  cleanups.push(() => nc.close());
  return nc;
}

/** Collects the error statuses a client reports. */
function watchErrors(nc: Client): Status[] {
  const errors: Status[] = [];
  void (async () => {
    for await (const status of nc.status()) if (status.type === 'error') errors.push(status);
  })();
  return errors;
}

/** An in-process subscription that records the subjects it gets. */
function record(connection: NatsConnection, subject: string): string[] {
  const got: string[] = [];
  connection.subscribe(subject, (s) => void got.push(s));
  return got;
}

describe('internal subjects on one server', () => {
  async function server(): Promise<{ server: EmbeddedNatsServer; lines: Array<Record<string, unknown>> }> {
    const { logger, lines } = captureLog();
    const started = new EmbeddedNatsServer({ host: '127.0.0.1', port: -1 }, logger);
    await started.start();
    cleanups.push(() => started.shutdown());
    return { server: started, lines };
  }

  it('refuses a client publish, with nats-server error, logged with its address, connection kept', async () => {
    const { server: s, lines } = await server();
    const node = s.connectLocal('node');
    const raft = record(node, '_STAN.raft.>');
    const fetch = record(node, '_STAN.fetch.>');
    const nc = await client(s.port);
    const errors = watchErrors(nc);
    nc.publish('_STAN.raft.cluster.a', sc.encode('forged'));
    nc.publish('_STAN.fetch.cluster.a.foo', sc.encode('forged'));
    await nc.flush();
    await until(() => errors.length === 2, 5_000, 'two permission errors');
    expect(errors.map((e) => e.data)).toEqual([ErrorCode.PermissionsViolation, ErrorCode.PermissionsViolation]);
    expect(errors.map((e) => e.permissionContext?.subject)).toEqual(['_STAN.raft.cluster.a', '_STAN.fetch.cluster.a.foo']);
    // Still open and served.
    const echo = nc.subscribe('still.open', { max: 1 });
    nc.publish('still.open', sc.encode('yes'));
    for await (const msg of echo) expect(sc.decode(msg.data)).toBe('yes');
    expect(nc.isClosed()).toBe(false);
    expect(raft).toEqual([]);
    expect(fetch).toEqual([]);
    const warnings = lines.filter((line) => String(line['msg']).startsWith('Permissions Violation'));
    expect(warnings.map((line) => line['msg'])).toEqual([
      'Permissions Violation for Publish to "_STAN.raft.cluster.a"',
      'Permissions Violation for Publish to "_STAN.fetch.cluster.a.foo"',
    ]);
    expect(String(warnings[0]!['client'])).toMatch(/^(::ffff:)?127\.0\.0\.1:\d+$/);
  });

  it('answers raw sockets with the exact -ERR texts, replies and queue subscriptions included', async () => {
    const { server: s } = await server();
    const node = s.connectLocal('node');
    const raft = record(node, '_STAN.raft.>');
    const raw = await RawClient.open(s.port);
    cleanups.push(() => raw.close());
    raw.send('CONNECT {"verbose":false}\r\nPUB _STAN.raft.c.a 6\r\nforged\r\n');
    await raw.waitFor(/-ERR 'Permissions Violation for Publish to "_STAN.raft.c.a"'\r\n/);
    raw.send('SUB x.reply 1\r\nPUB x.reply _STAN.raft.c.a 2\r\nhi\r\n');
    await raw.waitFor(/-ERR 'Permissions Violation for Publish with Reply of "_STAN.raft.c.a"'\r\n/);
    raw.send('SUB _STAN.raft.> 2\r\nSUB _STAN.raft.c.* q 3\r\nSUB _STAN.fetch.c.a 4\r\n');
    await raw.waitFor(/-ERR 'Permissions Violation for Subscription to "_STAN.raft.>"'\r\n/);
    await raw.waitFor(/-ERR 'Permissions Violation for Subscription to "_STAN.raft.c.\*" using queue "q"'\r\n/);
    await raw.waitFor(/-ERR 'Permissions Violation for Subscription to "_STAN.fetch.c.a"'\r\n/);
    raw.send('PING\r\n');
    await raw.waitFor(/PONG\r\n/);
    expect(raw.closed).toBe(false);
    // The refused reply published nothing, and the refused subscriptions receive nothing.
    expect(raw.received).not.toMatch(/MSG x\.reply/);
    node.publish('_STAN.raft.c.a', sc.encode('internal'));
    node.publish('x.reply', sc.encode('marker'));
    await raw.waitFor(/MSG x\.reply 1 6\r\nmarker\r\n/);
    expect(raw.received).not.toMatch(/MSG _STAN/);
    expect(raft).toEqual(['_STAN.raft.c.a']);
  });

  it('refuses a client subscription through the nats client: its callback gets the error', async () => {
    const { server: s } = await server();
    const nc = await client(s.port);
    const refused = new Promise<NatsError>((resolve) =>
      nc.subscribe('_STAN.raft.cluster.>', { callback: (error) => error && resolve(error) }),
    );
    await nc.flush();
    const error = await refused;
    expect(error.code).toBe(ErrorCode.PermissionsViolation);
    expect(error.message).toBe(`'Permissions Violation for Subscription to "_STAN.raft.cluster.>"'`);
    expect(nc.isClosed()).toBe(false);
  });

  it('delivers no internal message to `>`, `_STAN.>` or `*.raft.>` client subscriptions', async () => {
    const { server: s } = await server();
    const node = s.connectLocal('node');
    const raft = record(node, '_STAN.raft.cluster.a');
    const nc = await client(s.port);
    const seen: string[] = [];
    for (const pattern of ['>', '_STAN.>', '*.raft.>', '_STAN.*.cluster.a']) {
      nc.subscribe(pattern, { callback: (_error, msg) => void seen.push(`${pattern} ${msg.subject}`) });
    }
    nc.subscribe('_STAN.raft', { callback: (_error, msg) => void seen.push(`exact ${msg.subject}`) });
    await nc.flush();
    node.publish('_STAN.raft.cluster.a', sc.encode('internal'));
    node.publish('_STAN.fetch.cluster.a', sc.encode('internal'));
    node.publish('_STAN.raft', sc.encode('not under the prefix'));
    node.publish('_STAN.marker', sc.encode('marker'));
    await until(() => seen.filter((line) => line.endsWith('_STAN.marker')).length === 2, 5_000, 'the marker');
    expect(seen.sort()).toEqual(['> _STAN.marker', '> _STAN.raft', '_STAN.> _STAN.marker', '_STAN.> _STAN.raft', 'exact _STAN.raft']);
    expect(raft).toEqual(['_STAN.raft.cluster.a']);
  });
});

describe('internal subjects across routes', () => {
  let nodes: MeshNode[] = [];

  afterEach(async () => {
    await stopMesh(nodes);
    nodes = [];
  });

  it('carry node to node, never to a client `>` and never over a route for a remote `>`', async () => {
    nodes = await startMesh(3);
    const [a, b, c] = nodes.map((n) => n.server) as [EmbeddedNatsServer, EmbeddedNatsServer, EmbeddedNatsServer];
    const onA = await client(a.port);
    const seenOnA: string[] = [];
    onA.subscribe('>', { callback: (_error, msg) => void seenOnA.push(msg.subject) });
    await onA.flush();
    const nodeB = b.connectLocal('node-b');
    const nodeC = c.connectLocal('node-c');
    const atC = record(nodeC, '_STAN.raft.cluster.c');
    await until(() => b.hasInterest('_STAN.raft.cluster.c') && b.hasInterest('marker'), 5_000, 'interest on b');
    const routedToA = (): number => [...a.routes.routes.values()].reduce((sum, route) => sum + route.stats.inMsgs, 0);
    const before = routedToA();
    for (let i = 0; i < 10; i++) nodeB.publish('_STAN.raft.cluster.c', sc.encode(`raft ${i}`));
    nodeB.publish('marker', sc.encode('marker'));
    await until(() => seenOnA.includes('marker') && atC.length === 10, 5_000, 'marker on a, raft on c');
    expect(seenOnA).toEqual(['marker']);
    // Only the marker crossed to a: b sent no internal message there for its client's `>`.
    expect(routedToA() - before).toBe(1);
  });
});
