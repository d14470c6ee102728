// The soak's flatness judgement on hand-made samples: a node restarted by a kill (small again,
// then growing back), a Raft log compacted in waves and a warm-up that levels off stay flat; a
// steady climb does not, and neither does a slow leak over an hour.
import { describe, expect, it } from 'vitest';
import { judgeFlatness, type ResourceSample } from './soak-figures.js';

const MiB = 2 ** 20;
const MINUTE_MS = 60_000;

function samples(minutes: number, shape: (tMs: number) => Partial<ResourceSample>): ResourceSample[] {
  const out: ResourceSample[] = [];
  for (let tMs = 0; tMs <= minutes * MINUTE_MS; tMs += 30_000) {
    out.push({ tMs, node: 'a', role: 'F', rssBytes: 100 * MiB, fds: 40, raftBytes: 4 * MiB, raftEntries: 12_000, ...shape(tMs) });
  }
  return out;
}

describe('judgeFlatness', () => {
  it('finds restarts and compaction waves flat', () => {
    const rows = judgeFlatness(
      samples(30, (tMs) => ({
        // killed every fifth minute: back to 60 MiB, grows back to 100 within two minutes
        rssBytes: Math.min(100 * MiB, 60 * MiB + ((tMs % (5 * MINUTE_MS)) / (2 * MINUTE_MS)) * 40 * MiB),
        raftBytes: (2 + ((tMs / 30_000) % 4)) * MiB,
        fds: 40 + ((tMs / 30_000) % 3),
      })),
    );
    expect(rows.map((r) => [r.metric, r.flat])).toEqual([
      ['rssBytes', true],
      ['fds', true],
      ['raftBytes', true],
    ]);
  });

  it('finds a steady climb growing, with its slope per hour', () => {
    const rows = judgeFlatness(samples(30, (tMs) => ({ rssBytes: 100 * MiB + (tMs / MINUTE_MS) * 4 * MiB, fds: 40 + Math.floor(tMs / MINUTE_MS) })));
    const rss = rows.find((r) => r.metric === 'rssBytes')!;
    expect(rss.flat).toBe(false);
    // 4 MiB a minute; per-minute peaks sit half a minute into each minute, the last minute has one sample
    expect(Math.abs(rss.slopePerHour / MiB - 240)).toBeLessThan(2);
    expect(rows.find((r) => r.metric === 'fds')!.flat).toBe(false);
    expect(rows.find((r) => r.metric === 'raftBytes')!.flat).toBe(true);
  });

  it('finds a warm-up that levels off flat, with a second-half slope of about 0', () => {
    // 110 MiB growing 1.5 MiB a minute to a plateau of 135 MiB at minute 17 (the message cache
    // filling), then flat with GC noise, for an hour.
    const rows = judgeFlatness(samples(60, (tMs) => ({ rssBytes: Math.min(135 * MiB, 110 * MiB + (tMs / MINUTE_MS) * 1.5 * MiB) + ((tMs / 30_000) % 3) * MiB })));
    const rss = rows.find((r) => r.metric === 'rssBytes')!;
    expect(rss.flat).toBe(true);
    expect(rss.slopePerHour / MiB).toBeGreaterThan(10);
    expect(Math.abs(rss.lateSlopePerHour / MiB)).toBeLessThan(2);
  });

  it('finds a slow leak over an hour growing', () => {
    // +60 MiB an hour on 140 MiB (the 15-minute run's +76 and +94 would be more): the second
    // half's peak is 30 MiB above the first's, past 10% and 8 MiB.
    const rows = judgeFlatness(samples(60, (tMs) => ({ rssBytes: 140 * MiB + (tMs / 3_600_000) * 60 * MiB })));
    const rss = rows.find((r) => r.metric === 'rssBytes')!;
    expect(rss.flat).toBe(false);
    expect(Math.abs(rss.lateSlopePerHour / MiB - 60)).toBeLessThan(2);
  });

  it('judges nothing within the settling time', () => {
    expect(judgeFlatness(samples(0.5, () => ({})))).toEqual([]);
  });
});
