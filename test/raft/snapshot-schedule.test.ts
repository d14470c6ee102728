// Proves when the driver takes a snapshot, on the pure schedule it asks: by count of applied
// entries, by time only if something was applied since the last one, on demand, and that an
// installed snapshot counts as the latest.
import { describe, expect, it } from 'vitest';
import { SnapshotSchedule } from '../../src/raft/snapshot-schedule.js';

describe('snapshot schedule', () => {
  it('is due after everyEntries applied entries', () => {
    const schedule = new SnapshotSchedule(10, 5, 0);
    expect(schedule.due(14)).toBe(false);
    expect(schedule.due(15)).toBe(true);
    schedule.onTaken(15);
    expect(schedule.due(15)).toBe(false);
  });

  it('is due after the interval only if something was applied since the last snapshot', () => {
    const schedule = new SnapshotSchedule(10, 1000, SnapshotSchedule.intervalTicks(1000, 100));
    for (let tick = 0; tick < 50; tick++) schedule.onTick();
    expect(schedule.due(10)).toBe(false);
    expect(schedule.due(11)).toBe(true);
    schedule.onTaken(11);
    for (let tick = 0; tick < 9; tick++) schedule.onTick();
    expect(schedule.due(12)).toBe(false);
    schedule.onTick();
    expect(schedule.due(12)).toBe(true);
  });

  it('counts an installed snapshot as the latest and restarts the interval', () => {
    const schedule = new SnapshotSchedule(0, 100, 3);
    for (let tick = 0; tick < 5; tick++) schedule.onTick();
    schedule.onInstalled(40);
    expect(schedule.due(40)).toBe(false);
    expect(schedule.due(41)).toBe(false);
    expect([schedule.lastIndex, schedule.installed]).toEqual([40, 1]);
  });

  it('is due at once when asked, and the askers are handed over once', () => {
    const schedule = new SnapshotSchedule(7, 100, 0);
    const waiter = { resolve: () => undefined, reject: () => undefined };
    schedule.request(waiter);
    expect(schedule.due(7)).toBe(true);
    expect(schedule.takeWaiters()).toEqual([waiter]);
    expect(schedule.due(7)).toBe(false);
  });

  it('turns time-based snapshots off with an interval of 0, and rounds the interval to at least a tick', () => {
    expect(SnapshotSchedule.intervalTicks(0, 100)).toBe(0);
    expect(SnapshotSchedule.intervalTicks(120_000, 100)).toBe(1200);
    expect(SnapshotSchedule.intervalTicks(10, 100)).toBe(1);
  });
});
