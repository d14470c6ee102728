// Proves nothing acknowledged is lost when the process running a whole 3-node cluster is killed
// with SIGKILL mid-stream: a child runs the cluster and reports each committed proposal; the test
// kills it, restarts the three nodes from their LevelDB and snapshot directories, and finds every
// reported proposal at its index on every node, with the nodes identical.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TestCluster } from './support/cluster.js';

const VITE_NODE = fileURLToPath(new URL('../../node_modules/vite-node/vite-node.mjs', import.meta.url));
const CHILD = fileURLToPath(new URL('./support/crash-cluster.ts', import.meta.url));

let child: ChildProcess | undefined;
let cluster: TestCluster | undefined;

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await cluster?.stop();
});

describe('kill -9 of a process running a Raft cluster', () => {
  it('loses no acknowledged proposal', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tstan-raft-crash-'));
    child = spawn(process.execPath, [VITE_NODE, CHILD, root], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
    const acknowledged = new Map<number, string>();
    for await (const line of createInterface({ input: child.stdout! })) {
      const [word, index, data] = line.split(' ');
      if (word !== 'acked') continue;
      acknowledged.set(Number(index), data!);
      if (acknowledged.size >= 400) {
        child.kill('SIGKILL');
        break;
      }
    }
    await exited;
    expect(child.signalCode).toBe('SIGKILL');

    cluster = await TestCluster.start({ root, snapshotEveryEntries: 100, raft: { trailingLogs: 50 } });
    const leader = await cluster.waitForLeader();
    const { index: last } = await leader.propose(new TextEncoder().encode('after restart'));
    await cluster.waitForApplied(last);
    const reference = cluster.stateMachine(cluster.ids[0]!).records;
    for (const id of cluster.ids) expect(cluster.stateMachine(id).records).toEqual(reference);
    const byIndex = new Map(reference.map((record) => [record.index, record.data]));
    for (const [index, data] of acknowledged) expect(byIndex.get(index), `acknowledged ${index}`).toBe(data);
    expect(byIndex.get(last)).toBe('after restart');
  });
});
