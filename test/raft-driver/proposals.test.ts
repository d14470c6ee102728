// Proves what the driver tells a proposer, end to end over LevelDB and the in-memory transport:
// the state machine's result once applied; RAFT_NOT_LEADER or RAFT_PROPOSAL_REFUSED (with its
// reason) for what was never appended; RAFT_PROPOSAL_UNKNOWN for what was appended when the
// leader lost its quorum or stopped. Waits are on driver events and promises, never on sleeps.
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster } from './support/cluster.js';
import { proposalOutcome } from '../../src/raft/errors.js';
import type { Entry } from '../../src/raft/types.js';
import { EntryType } from '../../src/raft/types.js';
import { RecordingStateMachine } from './support/cluster.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const encoder = new TextEncoder();

/** The error's code, refusal reason (if any) and what it says is known about the proposal. */
async function failure(promise: Promise<unknown>): Promise<[string | undefined, string | undefined, string]> {
  try {
    await promise;
  } catch (error) {
    const { code, reason } = error as { code?: string; reason?: string };
    return [code, reason, proposalOutcome(error)];
  }
  throw new Error('the proposal succeeded');
}

/** Records which entry types it was handed, to show noops and config entries reach it too. */
class TypeRecordingStateMachine extends RecordingStateMachine {
  readonly types = new Set<number>();
  override apply(entries: readonly Entry[]): Array<number | undefined> {
    for (const entry of entries) this.types.add(entry.type);
    return super.apply(entries);
  }
}

describe('proposals through the driver', () => {
  it('resolve with the index and the state machine result; noop and config entries reach apply too', async () => {
    const machines = new Map<string, TypeRecordingStateMachine>();
    const c = (cluster = await TestCluster.start({
      stateMachine: (id) => {
        const machine = new TypeRecordingStateMachine();
        machines.set(id, machine);
        return machine;
      },
    }));
    const leader = await c.waitForLeader();
    const first = await leader.propose(encoder.encode('one'));
    const second = await leader.propose(encoder.encode('two'));
    expect(first).toEqual({ index: first.index, result: 1 });
    expect(second).toEqual({ index: first.index + 1, result: 2 });
    expect([...machines.get(leader.id)!.types].sort()).toEqual([EntryType.Normal, EntryType.ConfigChange, EntryType.Noop]);
  });

  it('are refused before they are appended: not leader, too large, back pressure, stopped', async () => {
    const c = (cluster = await TestCluster.start({ raft: { proposalBytesMax: 64, uncommittedEntriesMax: 2 } }));
    const leader = await c.waitForLeader();
    const follower = c.running().find((d) => d.id !== leader.id)!;
    const notLeader = follower.propose(encoder.encode('x'));
    await expect(notLeader).rejects.toMatchObject({ code: 'RAFT_NOT_LEADER', leader: leader.id });
    expect(await failure(notLeader)).toEqual(['RAFT_NOT_LEADER', undefined, 'refused']);
    expect(await failure(leader.propose(new Uint8Array(65)))).toEqual(['RAFT_PROPOSAL_REFUSED', 'tooLarge', 'refused']);
    // Cut off from its followers, the leader commits nothing: two uncommitted fill the bound.
    await c.waitForApplied(leader.status().lastIndex);
    for (const id of c.ids) if (id !== leader.id) c.network.cut(leader.id, id);
    const inFlight = [leader.propose(encoder.encode('a')), leader.propose(encoder.encode('b'))].map(failure);
    expect(await failure(leader.propose(encoder.encode('c')))).toEqual(['RAFT_PROPOSAL_REFUSED', 'backPressure', 'refused']);
    // Stopped with two appended and uncommitted: nothing is known of them.
    await c.stopNode(leader.id);
    for (const outcome of inFlight) expect(await outcome).toEqual(['RAFT_PROPOSAL_UNKNOWN', undefined, 'unknown']);
    expect(await failure(leader.propose(encoder.encode('d')))).toEqual(['RAFT_PROPOSAL_REFUSED', 'stopped', 'refused']);
  });

  it('are UNKNOWN when the leader loses its quorum before they commit', async () => {
    const c = (cluster = await TestCluster.start());
    const leader = await c.waitForLeader();
    c.network.isolate(leader.id, c.ids);
    const proposal = leader.propose(encoder.encode('lost?'));
    // CheckQuorum deposes the leader within an election timeout; its entry may yet survive.
    expect(await failure(proposal)).toEqual(['RAFT_PROPOSAL_UNKNOWN', undefined, 'unknown']);
    expect(leader.role).not.toBe('leader');
    c.network.heal();
    const next = await c.waitForLeader();
    expect((await next.propose(encoder.encode('after'))).result).toBeGreaterThan(0);
  });

  it('halt the node when the state machine returns the wrong number of results', async () => {
    class Broken extends RecordingStateMachine {
      override apply(entries: readonly Entry[]): Array<number | undefined> {
        return super.apply(entries).slice(1);
      }
    }
    const c = (cluster = await TestCluster.start({ ids: ['solo'], stateMachine: () => new Broken() }));
    const node = c.driver('solo');
    const stopped = new Promise<unknown>((resolve) => node.onEvent((event) => event.type === 'stopped' && resolve(event.error)));
    node.campaign();
    expect(await stopped).toMatchObject({ code: 'RAFT_STATE_MACHINE_CONTRACT' });
  });
});
