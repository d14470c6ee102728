// The clock scenarios' timestamp figures on a hand-made history: message timestamps along a
// channel's sequences against the real time of each publish's ack (how far ahead, how far behind,
// how long they stood still) and a timestamp that goes back, which fails a clock run.
import { describe, expect, it } from 'vitest';
import type { Op } from '../history.js';
import { timestampFigures } from './scenarios-clock.js';

const ms = (n: number) => n * 1e6;

function publishAndDeliver(channel: string, seq: number, ackedAtMs: number, timestampMs: number): Op[] {
  const value = `${channel}-${seq}`;
  return [
    { proc: 'p0', type: 'ok', f: 'publish', channel, value, tMonoNs: ms(ackedAtMs) },
    { proc: 'r', type: 'ok', f: 'deliver', channel, value, seq, timestampMs, tMonoNs: ms(ackedAtMs + 5) },
  ];
}

describe('timestampFigures', () => {
  const wallAt = (tMonoNs: number) => 1_000_000 + tMonoNs / 1e6;

  it('reports a leader 30 s ahead, then timestamps held while its clock came back', () => {
    const ops = [
      ...publishAndDeliver('c0', 1, 0, 1_000_000),
      ...publishAndDeliver('c0', 2, 1_000, 1_031_000), // +30 s
      ...publishAndDeliver('c0', 3, 2_000, 1_031_000), // clock stepped back: clamped, stands still
      ...publishAndDeliver('c0', 4, 9_000, 1_031_000),
      ...publishAndDeliver('c0', 5, 10_000, 1_031_500),
    ];
    expect(timestampFigures(ops, wallAt)).toEqual({ backwards: 0, aheadMsMax: 30_000, behindMsMax: 0, standstillMsMax: 8_000 });
  });

  it('counts a timestamp lower than the one before it on the same channel, not across channels', () => {
    const ops = [
      ...publishAndDeliver('c0', 1, 0, 1_000_100),
      ...publishAndDeliver('c0', 2, 1_000, 1_000_050),
      ...publishAndDeliver('c1', 1, 1_500, 999_000),
    ];
    const figures = timestampFigures(ops, wallAt);
    expect(figures.backwards).toBe(1);
    expect(figures.behindMsMax).toBe(2_500);
  });
});
