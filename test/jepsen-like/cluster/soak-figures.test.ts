// The soak's flatness judgement on hand-made samples: a node restarted by a kill (small again,
// then growing back) and a Raft log compacted in waves stay flat; a steady climb does not.
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

  it('judges nothing within the settling time', () => {
    expect(judgeFlatness(samples(0.5, () => ({})))).toEqual([]);
  });
});
