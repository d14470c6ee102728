// Proves the driver's durability order with a gate that holds a node's storage writes and a spy
// transport: a follower acknowledges entries and grants votes only after its write is durable;
// a leader sends AppendEntries while its own write is in flight, and counts itself toward a
// commit only once that write has completed.
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster } from './support/cluster.js';
import { PersistGate, SpyTransport } from './support/spies.js';
import type { Message } from '../../src/raft/messages.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  for (const gate of gates.values()) gate.open();
  await cluster?.stop();
  cluster = undefined;
});

const gates = new Map<string, PersistGate>();
const spies = new Map<string, SpyTransport>();

async function startCluster(): Promise<TestCluster> {
  gates.clear();
  spies.clear();
  let self: TestCluster | undefined;
  const notify = (): void => self?.wake();
  self = await TestCluster.start({
    decorate: (id, storage, transport) => {
      const gate = new PersistGate(notify);
      gate.install(storage);
      gates.set(id, gate);
      const spy = new SpyTransport(transport, notify);
      spies.set(id, spy);
      return spy;
    },
  });
  return self;
}

/** A leader all nodes follow, with every node caught up to its log (nothing left in flight). */
async function steadyLeader(c: TestCluster) {
  const leader = await c.waitForLeader();
  await c.waitForApplied(leader.status().lastIndex);
  return leader;
}

const isAck = (index: number) => (m: Message) => m.type === 'appendResponse' && !m.reject && m.index >= index;
const carries = (index: number) => (m: Message) => m.type === 'append' && m.entries.some((e) => e.index === index);

describe('durability order of the Raft driver', () => {
  it('a follower acknowledges an entry only after writing it', async () => {
    const c = (cluster = await startCluster());
    const leader = await steadyLeader(c);
    const [slow, fast] = c.ids.filter((id) => id !== leader.id) as [string, string];
    gates.get(slow)!.close();
    const proposal = leader.propose(new TextEncoder().encode('p')).then((applied) => applied.index);
    const index = leader.status().lastIndex;
    await c.waitUntil(() => gates.get(slow)!.holdsEntry(index), 5000, 'the slow follower to start its write');
    // The leader and the fast follower commit without the slow one.
    expect(await proposal).toBe(index);
    expect(spies.get(fast)!.sent.some(isAck(index))).toBe(true);
    expect(spies.get(slow)!.sent.some(isAck(index))).toBe(false);
    gates.get(slow)!.open();
    await c.waitUntil(() => spies.get(slow)!.sent.some(isAck(index)), 5000, 'the slow follower to acknowledge');
  });

  it('a leader replicates while its own write is in flight and counts itself only once it lands', async () => {
    const c = (cluster = await startCluster());
    const leader = await steadyLeader(c);
    const [durable, held] = c.ids.filter((id) => id !== leader.id) as [string, string];
    gates.get(leader.id)!.close();
    gates.get(held)!.close();
    let committed = false;
    const proposal = leader.propose(new TextEncoder().encode('q')).then(({ index: at }) => {
      committed = true;
      return at;
    });
    const index = leader.status().lastIndex;
    const leaderSpy = spies.get(leader.id)!;
    await c.waitUntil(
      () => gates.get(leader.id)!.holdsEntry(index) && leaderSpy.sent.filter(carries(index)).length >= 2,
      5000,
      'appends to both followers while the leader write is held',
    );
    await c.waitUntil(
      () => leaderSpy.received.some((m) => m.from === durable && isAck(index)(m)),
      5000,
      'the durable follower to acknowledge',
    );
    // One durable follower out of three is no majority without the leader's own durable copy.
    expect(leader.status().commit).toBeLessThan(index);
    expect(committed).toBe(false);
    gates.get(leader.id)!.open();
    expect(await proposal).toBe(index);
    expect(leader.status().commit).toBeGreaterThanOrEqual(index);
  });

  it('a candidate asks and a voter grants only after writing the vote', async () => {
    const c = (cluster = await startCluster());
    const leader = await steadyLeader(c);
    const [target, voter] = c.ids.filter((id) => id !== leader.id) as [string, string];
    gates.get(target)!.close();
    gates.get(voter)!.close();
    leader.transferLeadership(target);
    let term = 0;
    await c.waitUntil(
      () => {
        term = gates.get(target)!.held.find((r) => r.hardState?.vote === target)?.hardState?.term ?? 0;
        return term > 0;
      },
      5000,
      'the transfer target to write its own vote',
    );
    expect(spies.get(target)!.sent.some((m) => m.type === 'vote' && m.term === term)).toBe(false);
    gates.get(target)!.open();
    const votedFor = (r: { hardState?: { vote: string; term: number } }): boolean =>
      r.hardState?.vote === target && r.hardState.term === term;
    await c.waitUntil(() => gates.get(voter)!.held.some(votedFor), 5000, 'the voter to write its vote');
    const granted = (m: Message): boolean => m.type === 'voteResponse' && !m.reject && m.term === term;
    expect(spies.get(voter)!.sent.some(granted)).toBe(false);
    gates.get(voter)!.open();
    await c.waitUntil(() => spies.get(voter)!.sent.some(granted), 5000, 'the vote to be sent');
    expect((await c.waitForLeader()).id).toBe(target);
  });
});
