// Starts a standalone tstan for one benchmark run through the `tstan` command of a checkout's
// compiled dist/ — this one or another (--tstan-root, --vs) — on a free port and, for FILE, a
// fresh data directory (fsync on, the default). The command line is the one interface that stays
// the same across a refactor of the server's insides, which is what comparing two builds needs.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, mainThreadCpuSeconds, peakRssMb } from './proc-stats.js';

export type StoreKind = 'MEMORY' | 'FILE';
export const STORE_KINDS: readonly StoreKind[] = ['MEMORY', 'FILE'];

/** A checkout whose dist/ holds a built tstan. */
export interface ServerBuild {
  readonly root: string;
  /** Directory name and commit, e.g. `wt-bench@4d34839`, or with `+dirty`. */
  readonly label: string;
  /** tstan flags added to every standalone server of this build (`--server-flags`, `--vs-server-flags`). */
  readonly serverFlags?: readonly string[];
}

/** A build run with extra tstan flags, named so that the report tells the two apart. */
export function withServerFlags(build: ServerBuild, flags: readonly string[]): ServerBuild {
  return flags.length === 0 ? build : { ...build, serverFlags: flags, label: `${build.label} ${flags.join(' ')}` };
}

export interface RunningServer {
  readonly port: number;
  readonly pid: number;
  readonly url: string;
  cpuSeconds(): number;
  /** The main thread's CPU alone: for a Node server its JavaScript thread (a Go server's says little). */
  mainThreadCpuSeconds(): number;
  peakRssMb(): number;
  /** SIGTERM, then SIGKILL after 10 s; removes the data directory. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_KEPT_CHARS = 4_000;

/** The checkout this module was built from (dist/bench/x.js or bench/x.ts → the checkout). */
export function ownRoot(): string {
  let dir = resolve(fileURLToPath(new URL('.', import.meta.url)));
  while (!existsSync(join(dir, 'package.json')) && dir !== resolve(dir, '..')) dir = resolve(dir, '..');
  return dir;
}

function cliEntry(root: string): string {
  return join(root, 'dist', 'src', 'cli', 'main.js');
}

export function serverBuild(root: string): ServerBuild {
  const absolute = resolve(root);
  if (!existsSync(cliEntry(absolute))) throw new Error(`no built tstan in ${absolute}: run \`npm run build\` there first (${cliEntry(absolute)} is missing)`);
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['-C', absolute, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', absolute, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    if (dirty !== '') commit += '+dirty';
  } catch {
    // Not a git checkout: the directory name alone says which build it is.
  }
  return { root: absolute, label: `${basename(absolute)}@${commit}` };
}

function readPortsFile(dir: string): number {
  const file = readdirSync(dir).find((name) => name.endsWith('.ports'));
  if (file === undefined) return 0;
  try {
    const ports = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nats?: string[] };
    const url = ports.nats?.[0];
    return url === undefined ? 0 : Number(new URL(url).port);
  } catch {
    return 0; // written but not complete yet
  }
}

/**
 * A build's server flags: those written `node:F` are node flags F for this build only (where
 * TSTAN_BENCH_SERVER_ARGS is for both), the rest tstan's.
 */
export function splitServerFlags(flags: readonly string[]): { node: string[]; tstan: string[] } {
  const node: string[] = [];
  const tstan: string[] = [];
  for (const flag of flags) {
    if (flag.startsWith('node:')) node.push(flag.slice('node:'.length));
    else tstan.push(flag);
  }
  return { node, tstan };
}

/** Starts `tstan -a 127.0.0.1 -p -1 -st <store>` of `build`; resolves once its ports file exists. */
export async function startServer(build: ServerBuild, store: StoreKind): Promise<RunningServer> {
  const dataDir = store === 'FILE' ? mkdtempSync(join(tmpdir(), 'tstan-bench-file-')) : '';
  // TSTAN_BENCH_SERVER_ARGS: extra node flags for the server process, e.g. --cpu-prof for profiling.
  const nodeArgs = (process.env['TSTAN_BENCH_SERVER_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');
  const flags = splitServerFlags(build.serverFlags ?? []);
  const args = [...nodeArgs, ...flags.node, cliEntry(build.root), '-st', store];
  if (dataDir !== '') args.push('--dir', dataDir);
  args.push(...flags.tstan);
  return startListening({ label: `tstan (${build.label})`, command: process.execPath, args, cwd: build.root, dataDir });
}

export interface ListeningProcess {
  /** For messages: `tstan (main@abc)`, `nats-server`. */
  readonly label: string;
  readonly command: string;
  /** Its arguments but the listening ones, which are added: -a 127.0.0.1 -p -1 --ports_file_dir D. */
  readonly args: readonly string[];
  readonly cwd?: string;
  /** Removed when it stops ('' for none). */
  readonly dataDir: string;
}

/**
 * Starts a server that takes nats-server's listening flags (tstan and nats-server both do) on a
 * free port; resolves once its ports file says which.
 */
export async function startListening(spec: ListeningProcess): Promise<RunningServer> {
  const portsDir = mkdtempSync(join(tmpdir(), 'tstan-bench-ports-'));
  const args = [...spec.args, '-a', '127.0.0.1', '-p', '-1', '--ports_file_dir', portsDir];
  const child: ChildProcess = spawn(spec.command, args, { ...(spec.cwd !== undefined ? { cwd: spec.cwd } : {}), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_KEPT_CHARS);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const cleanUp = (): void => {
    rmSync(portsDir, { recursive: true, force: true });
    if (spec.dataDir !== '') rmSync(spec.dataDir, { recursive: true, force: true });
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    cleanUp();
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  let port = 0;
  while (port === 0) {
    if (child.exitCode !== null || child.signalCode !== null) {
      cleanUp();
      throw new Error(`${spec.label} exited during start-up: ${output}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${spec.label} wrote no ports file within ${START_TIMEOUT_MS} ms: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 20));
    port = readPortsFile(portsDir);
  }
  const pid = child.pid!;
  return {
    port,
    pid,
    url: `nats://127.0.0.1:${port}`,
    cpuSeconds: () => cpuSeconds(pid),
    mainThreadCpuSeconds: () => mainThreadCpuSeconds(pid),
    peakRssMb: () => peakRssMb(pid),
    stop,
  };
}
