// Proves encryption at rest in a 3-node cluster (--encrypt): clients read every acknowledged
// message in clear, also after every node was stopped and started again (the Raft log and the
// stores opened with the key), while no payload appears in clear in any node's files: neither the
// message stores nor the Raft log directories. Real processes, node-nats-streaming clients.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster } from './support/cluster.js';
import { Subscriber, connect, publishAll } from './support/workload.js';
import type { StanSession } from '../jepsen-like/stan-client.js';

const MARK = 'plainSECRET-';

function filesUnder(root: string): Array<{ path: string; bytes: Buffer }> {
  const out: Array<{ path: string; bytes: Buffer }> = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push({ path, bytes: readFileSync(path) });
    }
  };
  walk(root);
  return out;
}

describe('clustered encryption at rest', () => {
  let cluster: TestCluster | undefined;
  const sessions: StanSession[] = [];
  afterEach(async () => {
    for (const session of sessions.splice(0)) session.close();
    await cluster?.stop();
    cluster = undefined;
  });

  it('seals payloads in every store and Raft log, and serves them in clear across a full restart', async () => {
    cluster = await TestCluster.create({ size: 3, args: ['--encrypt', '--encryption_key', 'cluster-key'] });
    await cluster.startAll();
    const leader = await cluster.leader();
    const acked = await publishAll(cluster.node(leader).url, 'writer', 500, MARK);
    await cluster.appliedEverywhere((await cluster.view(leader))!.commit);
    for (const node of cluster.nodes.values()) await node.stop();

    for (const id of cluster.nodes.keys()) {
      const files = filesUnder(cluster.dataDir(id));
      expect(files.some((f) => f.path.includes(`${join('.raft', 'log')}`)), `node ${id} has a Raft log`).toBe(true);
      const leaks = files.filter((f) => f.bytes.includes(MARK)).map((f) => f.path);
      expect(leaks, `node ${id}`).toEqual([]);
    }

    await cluster.startAll();
    const next = await cluster.leader(60_000);
    const reader = await connect(cluster.node(next).url, 'reader');
    sessions.push(reader);
    const subscriber = await Subscriber.start(reader, 'orders', 'all');
    await subscriber.received(acked, 60_000);
    const check = subscriber.check();
    expect(check.gaps).toBe(0);
    expect(check.payloadConflicts).toBe(0);
  }, 180_000);
});
