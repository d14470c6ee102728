// Proves that libfaketime, as the clock-skew scenario uses it, does what the scenario needs under
// Node: a running process's Date.now() follows its offset file when the file changes (forward
// and back), while its monotonic clock (process.hrtime, and with it timers and Raft's ticks) does
// not move. A child node prints both clocks; the test steps the file and reads the next lines.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { skipWithout } from '../support/test-deps.js';
import { WallClocks } from './cluster/wall-clock.js';

const PRINT_EVERY_MS = 100;
// Each reading: [Date.now() - parent's Date.now() at the same moment is not knowable, so the child
// prints its wall and monotonic times and the parent compares with its own on receipt.]
const CHILD = `setInterval(() => console.log(JSON.stringify([Date.now(), Number(process.hrtime.bigint() / 1000000n)])), ${PRINT_EVERY_MS});`;

describe.skipIf(skipWithout('faketime'))('libfaketime under Node', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('steps Date.now() of a running process both ways, and leaves its monotonic clock alone', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tstan-faketime-'));
    const clocks = new WallClocks(dir);
    const child = spawn(process.execPath, ['-e', CHILD], { env: { ...process.env, ...clocks.envFor('n') }, stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const parentMonoMs = () => Number(process.hrtime.bigint() / 1000000n);
    /** The child's wall-clock offset from ours, and its monotonic clock's from ours, on the next line. */
    const read = async () => {
      const line = await lines.next();
      const [wall, mono] = JSON.parse(String(line.value)) as [number, number];
      return { wallOffsetMs: wall - Date.now(), monoOffsetMs: mono - parentMonoMs() };
    };
    /** Reads until the wall offset is near `expectedMs` (the file is re-read at most once a second). */
    const settle = async (expectedMs: number) => {
      for (let i = 0; i < 40; i++) {
        const reading = await read();
        if (Math.abs(reading.wallOffsetMs - expectedMs) < 1_000) return reading;
      }
      throw new Error(`the wall clock never reached an offset of ${expectedMs} ms`);
    };
    try {
      const before = await settle(0);
      clocks.step('n', 30_000);
      const ahead = await settle(30_000);
      clocks.step('n', -30_000);
      const behind = await settle(-30_000);
      for (const reading of [before, ahead, behind]) expect(Math.abs(reading.monoOffsetMs)).toBeLessThan(1_000);
      expect(ahead.wallOffsetMs).toBeGreaterThan(29_000);
      expect(behind.wallOffsetMs).toBeLessThan(-29_000);
    } finally {
      child.kill('SIGKILL');
    }
  }, 20_000);
});
