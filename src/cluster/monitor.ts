// The cluster view on the monitoring port: `/streaming/clusterz` (this node's Raft state — role,
// term, leader, commit and applied index, membership, and on the leader each peer's match index
// and lag — plus what the node waits for, if anything), and the operators' membership requests
// `/streaming/clusterz/add?node=ID` and `/streaming/clusterz/remove?node=ID`, forwarded to the
// leader (with `--cluster_allow_add_remove_node`); `/streaming/clusterz/snapshot` takes a snapshot
// of this node's state now (the log is then compacted behind it, keeping `cluster_trailing_logs`).
import { MonitorRequestError, type MonitorHandler } from '../monitor/http-server.js';
import type { ClusteredStanServer } from './clustered-server.js';
import { digestState } from '../fsm/digest.js';

export async function clusterView(server: ClusteredStanServer, withDigest: boolean): Promise<unknown> {
  const driver = server.raft;
  const status = driver?.status();
  const machine = server.machineStatus();
  if (status === undefined) return { node_id: server.nodeId, role: 'Starting' };
  return {
    node_id: status.id,
    role: server.monitorRole(),
    term: status.term,
    leader: status.leader,
    commit: status.commit,
    leader_commit: status.leaderCommit,
    applied: status.applied,
    first_index: status.firstIndex,
    last_index: status.lastIndex,
    voters: status.config.voters,
    non_voters: status.config.nonVoters,
    serving: server.isServing,
    ready: server.isReady(),
    catching_up: status.catchingUp,
    waiting: machine.waiting,
    snapshot: { last_index: status.snapshot.lastIndex, taking: status.snapshot.taking, sending: status.snapshot.sending, installing: status.snapshot.installing },
    snapshots_restored: machine.snapshotsRestored,
    messages_fetched: machine.messagesFetched,
    counters: status.counters,
    ...(status.role === 'leader' ? { peers: status.peers } : {}),
    // A hash of the replicated records and every message: equal on nodes that applied the same index.
    ...(withDigest && server.records !== undefined ? { digest: await digestState(server.records) } : {}),
  };
}

export function clusterHandlers(server: ClusteredStanServer): Array<[string, MonitorHandler]> {
  const change = (kind: 'add' | 'remove'): MonitorHandler => async (query) => {
    const node = query.get('node') ?? '';
    if (node === '') throw new MonitorRequestError('node=<id> is required');
    const answer = await server.requestMembershipChange(kind, node);
    return { node, change: kind, answer };
  };
  return [
    ['/streaming/clusterz', (query) => clusterView(server, query.get('digest') === '1')],
    ['/streaming/clusterz/add', change('add')],
    ['/streaming/clusterz/remove', change('remove')],
    [
      '/streaming/clusterz/snapshot',
      async () => {
        const driver = server.raft;
        if (driver === undefined) throw new MonitorRequestError('the node is not running');
        const meta = await driver.snapshotNow();
        return { index: meta.index, term: meta.term };
      },
    ],
  ];
}
