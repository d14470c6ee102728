// Proves that what the nodes of a cluster say to each other stays out of a client's reach even
// when the client may do everything: nats 2.x clients subscribed to `>` on every node watch a
// 3-node cluster (real processes) publish, lose a follower's disk, restore it by snapshot and
// message fetch, and hand leadership over on SIGTERM (the serving probe). They see the STAN
// publishes, but no Raft frame, no fetch request, and no answer to any of the nodes' requests:
// those answers come back on the raft connection's inboxes under `_STAN.raft.<cid>.inbox.`, not on
// `_INBOX.>`, so the messages a peer sends a restoring node never reach a client's `>`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { TestCluster } from '../cluster/support/cluster.js';
import { publishAll } from '../cluster/support/workload.js';

interface Seen {
  readonly subject: string;
  readonly text: string;
}

const marker = 'leak-check-';
const ids = ['node-alpha', 'node-beta', 'node-gamma'];

describe('the cluster\'s internal traffic and a client subscribed to `>`', () => {
  let cluster: TestCluster;
  const watchers: NatsConnection[] = [];
  const seen: Seen[] = [];

  async function watch(url: string): Promise<void> {
    const nc = await connect({ servers: url, reconnect: false });
    watchers.push(nc);
    nc.subscribe('>', { callback: (_error, msg) => void seen.push({ subject: msg.subject, text: Buffer.from(msg.data).toString('latin1') }) });
    await nc.flush();
  }

  beforeAll(async () => {
    cluster = await TestCluster.create({ size: 3, ids, args: ['--cluster_trailing_logs', '2'] });
    await cluster.startAll();
  }, 120_000);
  afterAll(async () => {
    for (const nc of watchers) if (!nc.isClosed()) await nc.close().catch(() => undefined);
    await cluster?.stop();
  });

  it('shows the watchers publishes, and nothing of a restore by snapshot and fetch or of a hand-over', async () => {
    const leader = await cluster.leader();
    const victim = ids.find((id) => id !== leader)!;
    const survivors = ids.filter((id) => id !== victim);
    for (const id of survivors) await watch(cluster.node(id).url);

    await publishAll(cluster.node(leader).url, 'p1', 300, `${marker}one-`);
    cluster.node(victim).signal('SIGKILL');
    await cluster.node(victim).waitExit();
    cluster.wipe(victim);
    for (const id of survivors) await cluster.snapshot(id);
    await publishAll(cluster.node(leader).url, 'p2', 100, `${marker}two-`);
    for (const id of survivors) await cluster.snapshot(id);
    const leaderView = await cluster.until(leader, (view) => view.first_index > 1);
    // The wiped node probes its peers' state, installs a snapshot and fetches the messages.
    await cluster.node(victim).start(60_000);
    const restored = await cluster.until(victim, (view) => view.ready && view.applied >= leaderView.commit, 60_000);
    expect(restored.messages_fetched).toBeGreaterThan(0);
    // SIGTERM on the leader: it asks on `_STAN.raft.<cid>.serving` until a new leader answers.
    await cluster.node(leader).stop();
    await cluster.leader(30_000, [leader]);

    const watcherLost = watchers.filter((nc) => nc.isClosed()).length;
    expect(watcherLost).toBeLessThanOrEqual(1);
    // The watchers do see what clients may see: the STAN publishes.
    expect(seen.filter((entry) => entry.subject === '_STAN.pub.test-cluster.orders').length).toBeGreaterThanOrEqual(400);
    const internal = seen.filter((entry) => entry.subject.startsWith('_STAN.raft.') || entry.subject.startsWith('_STAN.fetch.'));
    expect(internal.map((entry) => entry.subject)).toEqual([]);
    // Channel data anywhere but in the publishes: a fetch answer that reached a client.
    const leaked = seen.filter((entry) => entry.text.includes(marker) && !entry.subject.startsWith('_STAN.pub.'));
    expect(leaked.map((entry) => entry.subject)).toEqual([]);
    // A node's ID as a whole answer: a state or serving probe answered where a client could read it.
    const answers = seen.filter((entry) => entry.subject.startsWith('_INBOX.') && ids.some((id) => entry.text.includes(id)));
    expect(answers.map((entry) => entry.subject)).toEqual([]);
  }, 240_000);
});
