// Proves Raft over NATS with `-ns` style connections: three Debian nats-server processes in a
// cluster, configured with the permissions block the README shows, and three RaftDrivers whose
// transports use the `nats` client (ExternalNatsConnector) as the tstan user: a leader is elected,
// proposals commit on all three, the nodes ride out one nats-server being killed, and stopping
// the leader elects another. An application user of the same deployment is refused the Raft
// subjects and its `>` subscription sees none of the traffic. A frame that reaches nobody comes
// back as nats-server's no-responders status, counted as such and not as a malformed frame.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, ErrorCode, type Status } from 'nats';
import { ExternalNatsConnector } from '../../src/transport/nats/external-connection.js';
import type { NatsConnection } from '../../src/transport/nats/connection.js';
import { NatsRaftTransport } from '../../src/transport/raft/nats-transport.js';
import { startOracle, type OracleServer } from '../support/nats-server.js';
import { until } from '../support/embedded.js';
import { skipWithout } from '../support/test-deps.js';
import { appliedEverywhere, clusterId, NatsRaftCluster, proposeMany } from './support/nats-raft-cluster.js';

// The README's block, as nats-server reads it.
const permissions = `
authorization {
  users = [
    { user: tstan, password: tstan-secret }
    { user: app, password: app-secret, permissions: {
        publish:   { deny: ["_STAN.raft.>", "_STAN.fetch.>"] }
        subscribe: { deny: ["_STAN.raft.>", "_STAN.fetch.>"] }
    } }
  ]
}
`;

const ids = ['a', 'b', 'c'] as const;
let oracles: OracleServer[] = [];
let cluster: NatsRaftCluster | undefined;
const cleanups: Array<() => Promise<unknown> | void> = [];

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await Promise.all(oracles.map((oracle) => oracle.stop()));
  oracles = [];
});

async function routesOf(oracle: OracleServer): Promise<number> {
  try {
    const response = await fetch(`http://127.0.0.1:${oracle.httpPort}/routez`);
    return ((await response.json()) as { num_routes: number }).num_routes;
  } catch {
    return -1;
  }
}

/** Three nats-servers meshed by routes, each reading the permissions block. */
async function startDeployment(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tstan-ns-conf-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const conf = join(dir, 'nats.conf');
  writeFileSync(conf, permissions);
  const seed = await startOracle({ cluster: true, args: ['-c', conf] });
  oracles.push(seed);
  for (let i = 1; i < 3; i++) {
    oracles.push(await startOracle({ cluster: true, args: ['-c', conf, '--routes', `nats://127.0.0.1:${seed.clusterPort}`] }));
  }
  const deadline = Date.now() + 15_000;
  for (;;) {
    const routes = await Promise.all(oracles.map(routesOf));
    if (routes.every((count) => count === 2)) return;
    if (Date.now() > deadline) throw new Error(`nats-server cluster did not form: ${routes.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(skipWithout('nats-server'))('Raft over an external nats-server deployment (-ns)', () => {
  it('elects, commits, survives a nats-server kill and a stopped leader; applications are kept out', async () => {
    await startDeployment();
    const connector = new ExternalNatsConnector({ servers: oracles.map((o) => o.url), user: 'tstan', password: 'tstan-secret' });
    const connections = new Map<string, NatsConnection>();
    for (const id of ids) {
      const connection = await connector.connect(`raft-${id}`);
      cleanups.push(() => connection.close());
      connections.set(id, connection);
    }
    const c = (cluster = await NatsRaftCluster.start(connections));

    const app = await connect({ servers: oracles.map((o) => o.url), user: 'app', pass: 'app-secret' });
    cleanups.push(() => app.close());
    const errors: Status[] = [];
    void (async () => {
      for await (const status of app.status()) if (status.type === 'error') errors.push(status);
    })();
    const seen: string[] = [];
    app.subscribe('>', { callback: (_error, msg) => void seen.push(msg.subject) });
    await app.flush();

    const leader = await c.waitForLeader();
    const first = await proposeMany(leader.driver, 'first', 200);
    await c.waitForApplied(Math.max(...first.keys()));
    expect(appliedEverywhere([...c.nodes.values()], first)).toBe(true);
    expect(leader.transport.stats().messagesSent).toBeGreaterThan(leader.transport.stats().framesSent);

    // The application can neither read nor forge Raft traffic.
    app.publish(`_STAN.raft.${clusterId}.${leader.id}`, new Uint8Array([1, 1, 1, 0x61, 1, 0x62, 0, 0]));
    app.publish('marker');
    await until(() => seen.includes('marker') && errors.length > 0, 5_000, 'the marker and the refusal');
    expect(errors[0]!.data).toBe(ErrorCode.PermissionsViolation);
    expect(seen.filter((subject) => subject.startsWith('_STAN.'))).toEqual([]);

    // One nats-server dies: the nodes on it reconnect to the others and everyone keeps committing.
    await oracles[0]!.stop();
    const leaderNow = await c.waitForLeader();
    const second = await proposeMany(leaderNow.driver, 'second', 100);
    await c.waitForApplied(Math.max(...second.keys()));
    expect(appliedEverywhere([...c.nodes.values()], second)).toBe(true);

    // The leader stops: the other two elect one of themselves and commit.
    await c.stopNode(leaderNow.id);
    const survivors = ids.filter((id) => id !== leaderNow.id);
    const next = await c.waitForLeader(survivors);
    expect(next.driver.term).toBeGreaterThan(leaderNow.driver.term);
    const third = await proposeMany(next.driver, 'third', 100);
    await c.waitForApplied(Math.max(...third.keys()), survivors);
    expect(appliedEverywhere(survivors.map((id) => c.node(id)), third)).toBe(true);
    for (const node of c.nodes.values()) expect(node.transport.stats()).toMatchObject({ droppedMalformed: 0, droppedForged: 0 });
    expect(seen.filter((subject) => subject.startsWith('_STAN.'))).toEqual([]);
  });

  it('counts the no-responders status nats-server returns for a frame that reached nobody', async () => {
    const oracle = await startOracle();
    oracles.push(oracle);
    const connection = await new ExternalNatsConnector({ servers: [oracle.url] }).connect('raft-a');
    const transport = new NatsRaftTransport({ connection, clusterId, localId: 'a' });
    cleanups.push(() => connection.close(), () => transport.close());
    transport.send('b', { type: 'timeoutNow', from: 'a', to: 'b', term: 1 });
    await until(() => transport.stats().noRespondersReceived === 1, 5_000, 'the no-responders status');
    expect(transport.stats()).toMatchObject({ messagesSent: 1, framesSent: 1, droppedMalformed: 0, framesReceived: 0 });
  });
});
