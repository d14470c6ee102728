// Proves the driver's snapshots over LevelDB and the in-memory transport: the application's
// store is synced through an index before a snapshot covering it is saved and before the log is
// compacted past it (held syncs show nothing is saved meanwhile); snapshots on demand, by
// interval and by count; compaction keeps trailingLogs entries behind the snapshot.
import { afterEach, describe, expect, it } from 'vitest';
import { RecordingStateMachine, TestCluster } from './support/cluster.js';
import type { DurableRaftStorage } from '../../src/store/raft/durable-storage.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const encoder = new TextEncoder();

/** A state machine whose sync() is recorded and can be held until released. */
class SyncingStateMachine extends RecordingStateMachine {
  held = false;
  private releases: Array<() => void> = [];

  constructor(
    private readonly timeline: string[],
    private readonly notify: () => void,
  ) {
    super();
  }

  async sync(index: number): Promise<void> {
    this.timeline.push(`sync ${index}`);
    this.notify();
    if (this.held) await new Promise<void>((resolve) => this.releases.push(resolve));
    this.timeline.push(`synced ${index}`);
  }

  release(): void {
    this.held = false;
    for (const resolve of this.releases.splice(0)) resolve();
  }
}

/** Records snapshot saves and compactions of one node's storage into the timeline. */
function recordStorage(storage: DurableRaftStorage, timeline: string[]): void {
  const save = storage.saveSnapshot.bind(storage);
  storage.saveSnapshot = async (snapshot) => {
    timeline.push(`save ${snapshot.meta.index}`);
    return save(snapshot);
  };
  const compact = storage.compact.bind(storage);
  storage.compact = async (before) => {
    timeline.push(`compact ${before}`);
    return compact(before);
  };
}

/** Every save at I and compaction below B comes after the store was synced through I (B - 1). */
function expectSyncedFirst(timeline: readonly string[]): void {
  let syncedThrough = 0;
  for (const line of timeline) {
    const [what, at] = line.split(' ') as [string, string];
    const index = Number(at);
    if (what === 'synced') syncedThrough = Math.max(syncedThrough, index);
    if (what === 'save') expect(syncedThrough, line).toBeGreaterThanOrEqual(index);
    if (what === 'compact') expect(syncedThrough, line).toBeGreaterThanOrEqual(index - 1);
  }
}

async function proposeMany(c: TestCluster, count: number): Promise<number> {
  const leader = await c.waitForLeader();
  let last = 0;
  for (let i = 0; i < count; i++) last = (await leader.propose(encoder.encode(`p${i}`))).index;
  return last;
}

describe('driver snapshots', () => {
  it('sync the application store before a snapshot is saved and before the log is compacted, on demand', async () => {
    const timelines = new Map<string, string[]>();
    const machines = new Map<string, SyncingStateMachine>();
    const timelineOf = (id: string): string[] => timelines.get(id) ?? timelines.set(id, []).get(id)!;
    const c = (cluster = await TestCluster.start({
      raft: { trailingLogs: 5 },
      snapshotIntervalMs: 0,
      decorate: (id, storage, transport) => {
        recordStorage(storage, timelineOf(id));
        return transport;
      },
      stateMachine: (id) => {
        const machine = new SyncingStateMachine(timelineOf(id), () => cluster?.wake());
        machines.set(id, machine);
        return machine;
      },
    }));
    const last = await proposeMany(c, 20);
    const leader = await c.waitForLeader();
    const timeline = timelineOf(leader.id);
    machines.get(leader.id)!.held = true;
    const snapshot = leader.snapshotNow();
    await c.waitUntil(() => timeline.includes(`sync ${leader.appliedIndex}`), 5000, 'the store sync to start');
    // While the store is not synced, nothing is saved.
    expect(timeline.filter((line) => line.startsWith('save'))).toEqual([]);
    expect(leader.status().snapshot.taking).toBe(true);
    machines.get(leader.id)!.release();
    const meta = await snapshot;
    expect(meta.index).toBeGreaterThanOrEqual(last);
    expect(meta.config.voters).toEqual(['a', 'b', 'c']);
    // Nothing applied since: asking again hands back the same snapshot.
    expect((await leader.snapshotNow()).index).toBe(meta.index);
    // The compaction goes out with the next Ready; one more proposal makes sure it is done.
    await proposeMany(c, 1);
    expect(timeline).toContain(`save ${meta.index}`);
    expect(timeline).toContain(`compact ${meta.index - 5 + 1}`);
    expect(leader.status().firstIndex).toBe(meta.index - 5 + 1);
    expectSyncedFirst(timeline);
    expect(leader.status().counters.snapshotsTaken).toBe(1);
    expect(leader.status().snapshot.lastIndex).toBe(meta.index);
  });

  it('take one by count and by interval, each time after syncing the store', async () => {
    const timelines = new Map<string, string[]>();
    const timelineOf = (id: string): string[] => timelines.get(id) ?? timelines.set(id, []).get(id)!;
    const c = (cluster = await TestCluster.start({
      snapshotEveryEntries: 10,
      snapshotIntervalMs: 200,
      raft: { trailingLogs: 2 },
      decorate: (id, storage, transport) => {
        recordStorage(storage, timelineOf(id));
        return transport;
      },
      stateMachine: (id) => new SyncingStateMachine(timelineOf(id), () => cluster?.wake()),
    }));
    const leader = await c.waitForLeader();
    const taken: number[] = [];
    leader.onEvent((event) => {
      if (event.type === 'snapshot' && event.action === 'taken') taken.push(event.index);
    });
    // Twelve entries: one snapshot by count at once; the rest by interval within 200 ms. (An
    // election under load appends the new leader's empty entry: the snapshot may cover it too.)
    const last = await proposeMany(c, 12);
    await c.waitUntil(() => taken.some((index) => index >= last), 5000, `a snapshot at ${last} or later`);
    expect(taken.length).toBeGreaterThanOrEqual(2);
    expect(taken[0]).toBeLessThan(last);
    for (const id of c.ids) expectSyncedFirst(timelineOf(id));
  });
});
