// W2's floor on this machine: the same number of synchronous 128-byte round trips as W2, over
// loopback, to servers that only echo (bench/c/loopback-echo.c pings; the echo server is C, then
// Node.js, echo-server.ts). Whatever p99/p50 they show belongs to the machine and the runtime, not
// to any server's logic, so the stan suite prints it beside W2's figures. Round 0 meets a fresh
// server (as W2's measured run does); the last round, a warm one.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { compileCProgram, scriptCommand } from './client-programs.js';

const run = promisify(execFile);

/** Rounds of round trips per echo server: the first fresh, the last warm. */
export const FLOOR_ROUNDS = 4;

export interface FloorRound {
  readonly round: number;
  readonly count: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface LoopbackFloor {
  readonly server: 'C' | 'Node.js';
  readonly rounds: readonly FloorRound[];
}

function parseRounds(stdout: string): FloorRound[] {
  const rounds = stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as FloorRound);
  for (const round of rounds) {
    for (const key of ['round', 'count', 'p50Ms', 'p90Ms', 'p99Ms', 'maxMs'] as const) {
      if (typeof round[key] !== 'number') throw new Error(`loopback-echo printed a round without ${key}: ${JSON.stringify(round)}`);
    }
  }
  return rounds;
}

async function pingC(binary: string, args: readonly string[]): Promise<FloorRound[]> {
  const { stdout } = await run(binary, [...args], { timeout: 120_000 });
  return parseRounds(stdout);
}

/** Starts echo-server.ts, pings it, stops it. */
async function pingNodeEcho(binary: string, args: readonly string[]): Promise<FloorRound[]> {
  const { command, args: scriptArgs } = scriptCommand('echo-server');
  const server = spawn(command, scriptArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(server, 'exit');
  try {
    const lines = createInterface({ input: server.stdout });
    const [first] = (await Promise.race([once(lines, 'line'), exited.then(() => [undefined])])) as [string | undefined];
    lines.close();
    const port = Number(first);
    if (!Number.isInteger(port) || port <= 0) throw new Error(`the Node.js echo server did not start (it printed ${JSON.stringify(first)})`);
    return await pingC(binary, ['--connect', String(port), ...args]);
  } finally {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
    await exited;
  }
}

/**
 * Compiles the pinger into `dir` and measures `count` round trips per round, FLOOR_ROUNDS rounds,
 * against a C and a Node.js echo server in turn; the reason instead when it cannot.
 */
export async function measureLoopbackFloor(dir: string, count: number, rounds = FLOOR_ROUNDS): Promise<LoopbackFloor[] | { error: string }> {
  const compiled = await compileCProgram(dir, 'loopback-echo');
  if ('error' in compiled) return compiled;
  const args = ['--count', String(count), '--rounds', String(rounds)];
  try {
    return [
      { server: 'C', rounds: await pingC(compiled.binary, args) },
      { server: 'Node.js', rounds: await pingNodeEcho(compiled.binary, args) },
    ];
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

function ms(value: number): string {
  return value.toFixed(3);
}

function cell(round: FloorRound | undefined): string {
  if (round === undefined) return '–';
  return `${ms(round.p50Ms)} / ${ms(round.p99Ms)} (${(round.p99Ms / round.p50Ms).toFixed(2)}×)`;
}

/** One JSON line per echo server: its fresh and warm figures. */
export function floorJsonLines(floors: readonly LoopbackFloor[]): string[] {
  return floors.map((floor) => {
    const fresh = floor.rounds[0];
    const warm = floor.rounds.at(-1);
    return JSON.stringify({
      suite: 'stan',
      type: 'loopback-floor',
      server: floor.server,
      count: fresh?.count,
      freshP50Ms: fresh?.p50Ms,
      freshP99Ms: fresh?.p99Ms,
      warmP50Ms: warm?.p50Ms,
      warmP99Ms: warm?.p99Ms,
    });
  });
}

/** The table printed after the STAN table. */
export function formatLoopbackFloor(floors: readonly LoopbackFloor[]): string {
  const count = floors[0]?.rounds[0]?.count ?? 0;
  const rounds = floors[0]?.rounds.length ?? 0;
  const lines = [
    '',
    `W2's floor on this machine: ${count.toLocaleString('en-US')} synchronous round trips of 128 bytes over loopback, timed as W2 times`,
    `a publish, to a server that only echoes (bench/c/loopback-echo.c). Fresh: its first ${count.toLocaleString('en-US')}; warm: round ${rounds} of ${rounds}.`,
    '',
    '| echo server | fresh p50 / p99 ms (p99/p50) | warm p50 / p99 ms (p99/p50) |',
    '|---|---:|---:|',
  ];
  for (const floor of floors) lines.push(`| ${floor.server} | ${cell(floor.rounds[0])} | ${cell(floor.rounds.at(-1))} |`);
  return lines.join('\n') + '\n';
}
