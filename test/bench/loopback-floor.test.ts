// Proves W2's loopback floor (bench/loopback-floor.ts, bench/c/loopback-echo.c) measures what it
// says: round trips to a C echo server it forks and to the Node.js echo server, every round
// complete and its percentiles ordered, no echo server left behind; that the pinger refuses bad
// flags and reports a server that hangs up; and that `npm run bench` prints the floor after the
// W2 table unless told --no-floor. Small counts; no timing checked.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileCProgram } from '../../bench/client-programs.js';
import { floorJsonLines, formatLoopbackFloor, measureLoopbackFloor, type LoopbackFloor } from '../../bench/loopback-floor.js';
import { repoRoot } from '../support/tstan-process.js';
import { runCommand, runNode } from '../support/run-command.js';
import { skipWithout } from '../support/test-deps.js';

const ping = (binary: string, args: string[]) => runCommand(binary, args, 30_000);

/** Processes running bench/echo-server (under tsx or built). */
function echoServers(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('echo-server');
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

describe.skipIf(skipWithout('cc'))('W2 loopback floor', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tstan-floor-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('times every round trip to a C and a Node.js echo server, round by round', async () => {
    const floors = (await measureLoopbackFloor(dir, 300, 3)) as LoopbackFloor[];
    expect('error' in floors ? floors : 'measured').toBe('measured');
    expect(floors.map((floor) => floor.server)).toEqual(['C', 'Node.js']);
    for (const floor of floors) {
      expect(floor.rounds.map((round) => round.round)).toEqual([0, 1, 2]);
      for (const round of floor.rounds) {
        expect(round.count).toBe(300);
        expect(round.p50Ms).toBeGreaterThan(0);
        expect(round.p50Ms).toBeLessThanOrEqual(round.p90Ms);
        expect(round.p90Ms).toBeLessThanOrEqual(round.p99Ms);
        expect(round.p99Ms).toBeLessThanOrEqual(round.maxMs);
      }
    }
    const json = floorJsonLines(floors).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(json.map((row) => [row['type'], row['server'], row['count']])).toEqual([
      ['loopback-floor', 'C', 300],
      ['loopback-floor', 'Node.js', 300],
    ]);
    expect(json[1]!['warmP99Ms']).toBe(floors[1]!.rounds[2]!.p99Ms);
    const table = formatLoopbackFloor(floors);
    expect(table).toContain('300 synchronous round trips');
    expect(table).toMatch(/\| C \| [\d.]+ \/ [\d.]+ \([\d.]+×\) \| [\d.]+ \/ [\d.]+ \([\d.]+×\) \|/);
    expect(table).toContain('| Node.js |');
    expect(echoServers()).toEqual([]);
  }, 60_000);

  it('refuses bad flags, and says so when the echo server hangs up', async () => {
    const compiled = await compileCProgram(dir, 'loopback-echo');
    if ('error' in compiled) throw new Error(compiled.error);
    for (const args of [['--bogus'], ['--count', '0'], ['--size', '100000'], ['extra']]) {
      const refused = await ping(compiled.binary, args);
      expect(refused.code, args.join(' ')).toBe(2);
      expect(refused.stderr).toContain('usage:');
      expect(refused.stdout).toBe('');
    }
    const hangUp: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => hangUp.listen(0, '127.0.0.1', resolve));
    try {
      const port = (hangUp.address() as { port: number }).port;
      const closed = await ping(compiled.binary, ['--connect', String(port), '--count', '10']);
      expect(closed.code).toBe(1);
      expect(closed.stderr).toMatch(/closed the connection|Connection reset/);
      expect(closed.stdout).toBe('');
    } finally {
      await new Promise((resolve) => hangUp.close(resolve));
    }
  }, 30_000);
});

describe.skipIf(skipWithout('cc', 'libnats-dev'))('npm run bench: W2 loopback floor', () => {
  const benchEntry = join(repoRoot, 'dist', 'bench', 'run.js');
  const w2 = ['--only', 'stan', '--stores', 'MEMORY', '--workloads', 'W2', '--clients', 'c', '--runs', '1', '--scale', '0.02', '--no-jetstream'];

  it('prints the floor after the W2 table, and leaves it out with --no-floor', async () => {
    const withFloor = await runNode([benchEntry, ...w2], 120_000);
    expect(withFloor.code, withFloor.stderr).toBe(0);
    const floorRows = withFloor.stdout
      .split('\n')
      .filter((line) => line.includes('"loopback-floor"'))
      .map((line) => JSON.parse(line) as { server: string; count: number });
    expect(floorRows.map((row) => [row.server, row.count])).toEqual([
      ['C', 100],
      ['Node.js', 100],
    ]);
    const table = withFloor.stdout.indexOf('| standalone MEMORY | W2 |');
    const floor = withFloor.stdout.indexOf("W2's floor on this machine");
    expect(table).toBeGreaterThan(0);
    expect(floor).toBeGreaterThan(table);

    const without = await runNode([benchEntry, ...w2, '--no-floor'], 120_000);
    expect(without.code, without.stderr).toBe(0);
    expect(without.stdout).toContain('| standalone MEMORY | W2 |');
    expect(without.stdout).not.toContain('loopback-floor');
    expect(without.stdout).not.toContain("W2's floor");
  }, 150_000);
});
