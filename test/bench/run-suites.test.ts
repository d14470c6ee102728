// Proves `npm run bench` (dist/bench/run.js, as built) refuses a flag it does not know instead of
// running every suite, and that its NATS suite runs to the end: tstan alone and two tstan nodes
// across a route (each its own streaming cluster ID, or the second refuses to start), beside
// Debian's nats-server when it is installed. Smallest counts; no timing checked.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { repoRoot } from '../support/tstan-process.js';
import { runNode } from '../support/run-command.js';
import { skipWithout } from '../support/test-deps.js';

const benchEntry = join(repoRoot, 'dist', 'bench', 'run.js');
const bench = (args: string[]) => runNode([benchEntry, ...args], 120_000);

describe('npm run bench', () => {
  it('refuses an unknown flag, even one that follows a flag whose value starts with --', async () => {
    const typo = await bench(['--only', 'nats', '--worklods', 'W4']);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('unknown flag --worklods');
    expect(typo.stdout).toBe('');
    const valued = await bench(['--server-flags', '--file_sync=false', '--only', 'no-such-suite']);
    expect(valued.code).toBe(1);
    expect(valued.stderr).toContain('unknown suite no-such-suite');
  });

  it('runs the NATS suite to the end: one node and two across a route', async () => {
    const { code, stdout, stderr } = await bench(['--only', 'nats', '--scale', '0.001']);
    expect(code, stderr).toBe(0);
    const rows = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { workload: string; server: string; msgs?: number; msgsPerSecond?: number });
    for (const workload of ['nats-pubsub', 'nats-cross-node']) {
      const tstan = rows.find((row) => row.workload === workload && row.server === 'tstan');
      expect(tstan?.msgs, workload).toBe(10_000);
      expect(tstan!.msgsPerSecond).toBeGreaterThan(0);
      if (!skipWithout('nats-server')) expect(rows.some((row) => row.workload === workload && row.server === 'ratio tstan/nats-server'), workload).toBe(true);
    }
  }, 150_000);
});
