// Proves a 3-node tstan cluster serves the clients users run, as real processes: (a) the C client
// of Debian's libnats (test/stan/c/stan-pubsub.c) publishes and subscribes through a follower,
// beside node-nats-streaming on the other nodes; (b) a cluster running with `-ns` on a 3-node
// nats-server deployment (the README's permissions block, nodes as user `tstan`, clients as `app`)
// serves node-nats-streaming and loses nothing acknowledged when its leader is killed with
// SIGKILL and restarted. Every node's state ends identical and no node logs an error.
import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startOracleCluster, type OracleServer } from '../support/nats-server.js';
import { skipWithout } from '../support/test-deps.js';
import type { StanSession } from '../jepsen-like/stan-client.js';
import { TestCluster } from './support/cluster.js';
import { Publisher, Subscriber, connect } from './support/workload.js';

const run = promisify(execFile);
const cSource = join(dirname(fileURLToPath(import.meta.url)), '..', 'stan', 'c', 'stan-pubsub.c');

// The README's block for -ns deployments, as nats-server reads it.
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

let cluster: TestCluster | undefined;
let oracles: OracleServer[] = [];
const sessions: StanSession[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const session of sessions.splice(0)) session.close();
  await cluster?.stop();
  cluster = undefined;
  await Promise.all(oracles.map((oracle) => oracle.stop()));
  oracles = [];
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Every node converged on the same records and messages, and none logged an error. */
async function expectConvergedAndClean(c: TestCluster): Promise<void> {
  const digests = await c.digestsAfterConvergence(30_000);
  expect(new Set(digests.values()).size, JSON.stringify([...digests])).toBe(1);
  for (const [id, lines] of c.errorLines()) expect(lines, `error lines of ${id}`).toEqual([]);
}

function publishOne(session: StanSession, channel: string, value: string): Promise<void> {
  return new Promise((resolve, reject) => {
    session.publish(channel, value, (outcome, _guid, error) => (outcome === 'ok' ? resolve() : reject(new Error(`publish ${value}: ${outcome} ${error ?? ''}`))));
  });
}

describe.skipIf(skipWithout('libnats-dev', 'cc'))('3-node cluster and the C client (libnats streaming)', () => {
  it('publishes and subscribes through a follower, beside node-nats-streaming on the other nodes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tstan-c-cluster-'));
    dirs.push(dir);
    const binary = join(dir, 'stan-pubsub');
    await run('cc', ['-std=gnu11', '-O1', '-o', binary, cSource, '-lnats', '-lpthread']);
    const c = (cluster = await TestCluster.create({ size: 3 }));
    await c.startAll();
    const leader = await c.leader();
    const [follower, otherFollower] = [...c.nodes.keys()].filter((id) => id !== leader) as [string, string];

    const onLeader = await connect(c.node(leader).url, 'node-on-leader');
    sessions.push(onLeader);
    await publishOne(onLeader, 'c.chan', 'from-node');
    const onFollower = await connect(c.node(otherFollower).url, 'node-on-follower');
    sessions.push(onFollower);
    const nodeGot: string[] = [];
    await onFollower.subscribe('c.chan', { maxInFlight: 64, ackWaitMs: 30_000, manualAcks: false }, (delivery) => void nodeGot.push(delivery.value));

    const { stdout } = await run(binary, [c.node(follower).url, c.clusterId, 'c-client', 'c.chan', '5', '6'], { timeout: 30_000 });
    expect(stdout.trim().split('\n')).toEqual(['1 from-node', '2 c-1', '3 c-2', '4 c-3', '5 c-4', '6 c-5']);
    await expect.poll(() => nodeGot, { timeout: 15_000 }).toEqual(['from-node', 'c-1', 'c-2', 'c-3', 'c-4', 'c-5']);
    await expectConvergedAndClean(c);
  }, 120_000);
});

describe.skipIf(skipWithout('nats-server'))('3-node cluster with -ns on a 3-node nats-server deployment', () => {
  it('serves node-nats-streaming and loses nothing acknowledged when the leader is killed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tstan-ns-cluster-'));
    dirs.push(dir);
    const conf = join(dir, 'nats.conf');
    writeFileSync(conf, permissions);
    oracles = await startOracleCluster(3, ['-c', conf]);
    const deployment = oracles.map((oracle) => oracle.url);
    const c = (cluster = await TestCluster.create({ size: 3, natsServer: { urls: deployment, user: 'tstan', password: 'tstan-secret' } }));
    await c.startAll();
    const leader = await c.leader();

    // Applications log in as `app` on two different nats-servers; they never talk to a node directly.
    const asApp = (url: string): string => url.replace('nats://', 'nats://app:app-secret@');
    const pubSession = await connect(asApp(deployment[0]!), 'ns-publisher');
    const subSession = await connect(asApp(deployment[1]!), 'ns-subscriber');
    sessions.push(pubSession, subSession);
    const total = 4_000;
    const subscriber = await Subscriber.start(subSession, 'ns.orders', 'dur');
    const publisher = new Publisher(pubSession, 'ns.orders', total, 256);
    const done = publisher.run();

    await publisher.reached(total / 4);
    const victim = c.node(leader);
    victim.signal('SIGKILL');
    const newLeader = await c.leader(30_000, [leader]);
    await victim.waitExit();
    await victim.start(60_000);
    await done;
    await subscriber.received(publisher.acked, 60_000);
    const result = subscriber.check();
    console.log(
      `-ns leader kill: ${leader} → ${newLeader}; acked ${publisher.acked.size}, republished ${publisher.stats.retried}, ` +
        `longest gap between acks ${publisher.stats.longestAckGapMs} ms, ${result.redeliveries} redeliveries`,
    );
    expect(newLeader).not.toBe(leader);
    expect(result).toMatchObject({ payloadConflicts: 0, gaps: 0, outOfOrder: 0 });
    for (const value of publisher.acked) expect(subscriber.values().has(value)).toBe(true);
    await expectConvergedAndClean(c);
  }, 180_000);
});
