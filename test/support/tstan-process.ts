// Runs the tstan command as a child process straight from the TypeScript sources (through tsx),
// or from a built entry (`entry`: e.g. the bundle), on free ports announced in a ports file, and
// stops it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const cliEntry = join(repoRoot, 'src/cli/main.ts');

export interface TstanProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly httpPort: number;
  output(): string;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface SpawnOptions {
  readonly timeoutMs?: number;
  /** A built JavaScript entry to run with plain node instead of the sources through tsx. */
  readonly entry?: string;
  /** Monitoring flags; `-m -1` unless given (`['-ms', '-1']` for HTTPS, `[]` for none). */
  readonly monitorArgs?: readonly string[];
  /** Variables added to the environment of the child (e.g. NATS_STREAMING_ENCRYPTION_KEY). */
  readonly env?: NodeJS.ProcessEnv;
}

function envOf(options: SpawnOptions): NodeJS.ProcessEnv {
  return options.env === undefined ? process.env : { ...process.env, ...options.env };
}

function nodeArgs(options: SpawnOptions): string[] {
  return options.entry === undefined ? ['--import', 'tsx', cliEntry] : [options.entry];
}

/** Runs `tstan args...` to completion and returns its exit code and output. */
export async function runTstan(args: string[], options: SpawnOptions = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const child = spawn(process.execPath, [...nodeArgs(options), ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: envOf(options) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Starts a long-running tstan with `-p -1 -m -1` and waits for its ports file. */
export async function startTstan(args: string[], options: SpawnOptions = {}): Promise<TstanProcess> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const portsDir = mkdtempSync(join(tmpdir(), 'tstan-cli-'));
  const child = spawn(
    process.execPath,
    [...nodeArgs(options), '-a', '127.0.0.1', '-p', '-1', ...(options.monitorArgs ?? ['-m', '-1']), '--ports_file_dir', portsDir, ...args],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: envOf(options) },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + timeoutMs;
  let ports: Record<string, string[]> | null = null;
  while (!ports) {
    if (child.exitCode !== null) throw new Error(`tstan exited with ${child.exitCode}: ${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`tstan did not write its ports file: ${output}`);
    }
    const file = readdirSync(portsDir).find((name) => name.endsWith('.ports'));
    if (file) {
      try {
        ports = JSON.parse(readFileSync(join(portsDir, file), 'utf8')) as Record<string, string[]>;
      } catch {
        ports = null;
      }
    }
    if (!ports) await new Promise((r) => setTimeout(r, 25));
  }
  const portOf = (urls: string[] | undefined): number => (urls?.[0] ? Number(new URL(urls[0]).port) : 0);
  return {
    child,
    // With -ns there is no client port of ours: the file names only monitoring, and port is 0.
    port: portOf(ports['nats']),
    httpPort: portOf(ports['monitoring']),
    output: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = (await once(child, 'exit')) as [number | null];
      rmSync(portsDir, { recursive: true, force: true });
      return code;
    },
  };
}
