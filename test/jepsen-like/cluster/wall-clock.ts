// A node's wall clock, stepped from outside while it runs, for the clock-skew scenario: libfaketime
// (Debian's `faketime`) preloaded into the node reads its offset from a file of its own, which the
// harness rewrites. Only the wall clock moves (FAKETIME_DONT_FAKE_MONOTONIC): an NTP step or an
// operator's `date -s` changes CLOCK_REALTIME, never CLOCK_MONOTONIC, which Node's timers and
// hrtime (and so Raft's ticks and the harness's shared trace clock) run on. libfaketime re-reads
// the file at most once per FAKETIME_CACHE_DURATION second, so a step lands within a second; the
// clock test (faketime.test.ts) proves all of this on Node itself.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { libfaketimePath } from '../../../scripts/test-deps.mjs';

export class WallClocks {
  constructor(private readonly runDir: string) {}

  offsetFile(id: string): string {
    return join(this.runDir, `${id}.faketime`);
  }

  /** The environment that puts node `id` under libfaketime, starting with no offset. */
  envFor(id: string): Record<string, string> {
    const library = libfaketimePath();
    if (library === undefined) throw new Error("the clock-skew scenario needs libfaketime: apt-get install faketime");
    this.step(id, 0);
    return {
      LD_PRELOAD: library,
      FAKETIME_TIMESTAMP_FILE: this.offsetFile(id),
      FAKETIME_CACHE_DURATION: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    };
  }

  /** Sets node `id`'s wall clock `offsetMs` away from the real one (applies within a second). */
  step(id: string, offsetMs: number): void {
    const seconds = offsetMs / 1000;
    writeFileSync(this.offsetFile(id), `${seconds >= 0 ? '+' : ''}${seconds}s\n`);
  }
}

export { libfaketimePath };
