// The benchmark client programs as commands, each run as a process of its own so that its CPU
// and memory are its own: the C program (compiled here with cc against Debian's libnats-dev, as
// the C interop test does), the lean TypeScript client and node-nats-streaming.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { clientArgv, parseClientOutput, type ClientKind, type ClientResult, type WorkloadName } from './client-result.js';
import { ownRoot } from './tstan-server.js';

const run = promisify(execFile);

export interface ClientProgram {
  readonly kind: ClientKind;
  readonly command: string;
  readonly args: readonly string[];
}

export interface PreparedClients {
  readonly programs: ClientProgram[];
  /** Clients that cannot run here, with the reason (e.g. no cc or no libnats-dev). */
  readonly skipped: string[];
  /** Removes the compiled C program. */
  dispose(): void;
}

/** A TypeScript program beside this module: compiled (dist/bench/x.js) or, under tsx, the source. */
export function scriptCommand(name: string): { command: string; args: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const path = fileURLToPath(new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  return { command: process.execPath, args: fromSource ? ['--import', 'tsx', path] : [path] };
}

/** Compiles bench/c/NAME.c into `dir` as NAME; resolves with the binary or the reason it failed. */
export async function compileCProgram(dir: string, name: string, libraries: readonly string[] = [], hint = ''): Promise<{ binary: string } | { error: string }> {
  const source = join(ownRoot(), 'bench', 'c', `${name}.c`);
  if (!existsSync(source)) return { error: `${source} not found` };
  const binary = join(dir, name);
  try {
    await run('cc', ['-std=gnu11', '-O2', '-o', binary, source, ...libraries]);
    return { binary };
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr ?? String(error);
    return { error: `cc failed${hint}: ${detail.trim().split('\n').slice(0, 3).join(' ')}` };
  }
}

/** Compiles bench/c/stan-bench.c, the C client, into `dir`. */
export function compileCClient(dir: string): Promise<{ binary: string } | { error: string }> {
  return compileCProgram(dir, 'stan-bench', ['-lnats', '-lpthread'], ' (is libnats-dev installed? apt-get install libnats-dev)');
}

export async function prepareClients(kinds: readonly ClientKind[]): Promise<PreparedClients> {
  const dir = mkdtempSync(join(tmpdir(), 'tstan-bench-c-'));
  const programs: ClientProgram[] = [];
  const skipped: string[] = [];
  for (const kind of kinds) {
    if (kind === 'c') {
      const compiled = await compileCClient(dir);
      if ('binary' in compiled) programs.push({ kind, command: compiled.binary, args: [] });
      else skipped.push(`c: ${compiled.error}`);
    } else {
      programs.push({ kind, ...scriptCommand(kind === 'lean' ? 'lean-bench' : 'node-stan-bench') });
    }
  }
  return { programs, skipped, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ClientRun {
  readonly result: ClientResult | null;
  readonly exitCode: number | null;
  /** What went wrong when there is no result or the client failed: its stderr, the parse error. */
  readonly failure: string;
}

/**
 * Runs one workload with `program` against `url`; never rejects. `onMark` sees the client's
 * "MARK start" and "MARK end" lines as they come: the timed interval starts and ends.
 */
export async function runClient(
  program: ClientProgram,
  url: string,
  workload: WorkloadName,
  count: number,
  id: string,
  timeoutSec: number,
  onMark: (what: string) => void = () => {},
  extraArgs: readonly string[] = [],
): Promise<ClientRun> {
  const argv = [...program.args, ...clientArgv(url, workload, count, id), '--timeout-s', String(timeoutSec), ...extraArgs];
  const child = spawn(program.command, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let scanned = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (let eol = stdout.indexOf('\n', scanned); eol >= 0; eol = stdout.indexOf('\n', scanned)) {
      const line = stdout.slice(scanned, eol);
      scanned = eol + 1;
      if (line.startsWith('MARK ')) onMark(line.slice(5));
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  // The client enforces its own timeout; this one catches a client that hangs anyway.
  const timer = setTimeout(() => child.kill('SIGKILL'), (timeoutSec + 30) * 1000);
  const [exitCode] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  try {
    const result = parseClientOutput(stdout);
    return { result, exitCode, failure: exitCode === 0 ? '' : stderr.trim() || `exit code ${exitCode}` };
  } catch (error) {
    return { result: null, exitCode, failure: `${String(error)} ${stderr.trim()}` };
  }
}
