// Child process for the driver's kill -9 test: runs a 3-node cluster in `root`, proposes
// continuously through the leader (a window of 32) and prints "acked <index> <data>" for each
// proposal once it is committed, until the parent kills it.
import { TestCluster } from './cluster.js';

const root = process.argv[2];
if (root === undefined) throw new Error('usage: crash-cluster <root>');
const cluster = await TestCluster.start({ root, snapshotEveryEntries: 100, raft: { trailingLogs: 50 } });
const leader = await cluster.waitForLeader();
const encoder = new TextEncoder();
let next = 0;
async function worker(): Promise<void> {
  for (;;) {
    const data = `p-${next++}`;
    const { index } = await leader.propose(encoder.encode(data));
    process.stdout.write(`acked ${index} ${data}\n`);
  }
}
await Promise.all(Array.from({ length: 32 }, worker));
