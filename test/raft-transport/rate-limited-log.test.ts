// Proves warnings about dropped input are rate limited: at most so many per window, and the next
// window's first warning says how many were held back.
import { describe, expect, it } from 'vitest';
import { RateLimitedWarnings } from '../../src/util/rate-limited-log.js';
import { captureLog } from '../support/log-capture.js';

describe('RateLimitedWarnings', () => {
  it('logs at most so many warnings per window and reports what it held back', () => {
    const { logger, lines } = captureLog();
    let nowMs = 0;
    const warnings = new RateLimitedWarnings(logger, 3, 1_000, () => nowMs);
    for (let i = 0; i < 10; i++) warnings.warn('bad frame', { i });
    expect(lines.map((line) => line['i'])).toEqual([0, 1, 2]);
    nowMs = 999;
    warnings.warn('bad frame', { i: 10 });
    expect(lines).toHaveLength(3);
    nowMs = 1_000;
    warnings.warn('bad frame', { i: 11 });
    expect(lines[3]).toMatchObject({ msg: 'bad frame', i: 11, suppressedBefore: 8, level: 40 });
    warnings.warn('bad frame', { i: 12 });
    expect(lines[4]).not.toHaveProperty('suppressedBefore');
  });
});
