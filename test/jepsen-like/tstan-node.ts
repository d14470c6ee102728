// One tstan node as a child process that faults can kill, pause and restart on the same data
// directory and the same ports (chosen free once, at run time), so clients find it again. Its
// output goes to a log file, scanned afterwards for error lines (docs/testing.md §5.5, check 7).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cliEntry, repoRoot } from '../support/tstan-process.js';

export interface NodeSpec {
  readonly name: string;
  readonly clusterId: string;
  readonly dataDir: string;
  readonly runDir: string;
  readonly port: number;
  readonly httpPort: number;
  /** FILE unless said otherwise; MEMORY loses everything at a kill, which shows the checkers bite. */
  readonly store?: 'file' | 'memory';
  /**
   * The checkout whose `src/cli/main.ts` runs (default: this one). Each start loads the sources as
   * they are on disk then, so a tree being edited meanwhile is better snapshotted (git worktree).
   */
  readonly tstanRoot?: string;
  readonly extraArgs?: readonly string[];
  /** Environment added to the harness's own (e.g. the test hooks' TSTAN_RAFT_TRACE, TSTAN_FSYNC_LOG). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * A module to run instead of `src/cli/main.ts`: a test-only entry that patches the server before
   * loading the CLI (a deliberately broken build, to show a checker catches it).
   */
  readonly entry?: string;
  /**
   * Run the bundled `dist/bin/tstan.js` of the checkout (`npm run build` first) as a deployment
   * does, without tsx's loader and its module-transform thread (whose memory RSS counts too).
   */
  readonly built?: boolean;
}

const STOP_GRACE_MS = 10_000;
const POLL_MS = 20;

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class TstanNode {
  private child: ChildProcess | undefined;
  private paused = false;
  readonly logFile: string;
  starts = 0;

  constructor(readonly spec: NodeSpec) {
    this.logFile = join(spec.runDir, `${spec.name}.log`);
  }

  get url(): string {
    return `nats://127.0.0.1:${this.spec.port}`;
  }

  get monitorUrl(): string {
    return `http://127.0.0.1:${this.spec.httpPort}`;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get exitCode(): number | null {
    return this.child?.exitCode ?? null;
  }

  get isPaused(): boolean {
    return this.running && this.paused;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the node and resolves once it serves (its ports file is written). */
  async start(timeoutMs = 20_000): Promise<void> {
    if (this.running) throw new Error(`${this.spec.name} is already running`);
    const portsDir = join(this.spec.runDir, `${this.spec.name}.ports.d`);
    rmSync(portsDir, { recursive: true, force: true });
    const s = this.spec;
    const root = s.tstanRoot ?? repoRoot;
    const entry = s.entry ?? (s.tstanRoot === undefined ? cliEntry : join(s.tstanRoot, 'src/cli/main.ts'));
    const args = [...(s.built === true ? [join(root, 'dist/bin/tstan.js')] : ['--import', 'tsx', entry]), '-a', '127.0.0.1', '-p', String(s.port), '-m', String(s.httpPort), '-cid', s.clusterId];
    if (s.store === 'memory') args.push('-store', 'memory');
    else args.push('-store', 'file', '-dir', s.dataDir);
    args.push('--ports_file_dir', portsDir, ...(s.extraArgs ?? []));
    const log = openSync(this.logFile, 'a');
    const env = s.env === undefined ? process.env : { ...process.env, ...s.env };
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', log, log], env });
    closeSync(log);
    this.child = child;
    this.paused = false;
    this.starts++;
    const deadline = Date.now() + timeoutMs;
    const portsFile = join(portsDir, `tstan_${child.pid}.ports`);
    while (!existsSync(portsFile) || readdirSync(portsDir).length === 0) {
      if (!this.running) throw new Error(`${s.name} exited at start (code ${child.exitCode}); see ${this.logFile}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`${s.name} did not serve within ${timeoutMs} ms; see ${this.logFile}`);
      }
      await delay(POLL_MS);
    }
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.running || this.child === undefined) throw new Error(`${this.spec.name} is not running`);
    this.child.kill(signal);
    if (signal === 'SIGSTOP') this.paused = true;
    if (signal === 'SIGCONT') this.paused = false;
  }

  /** Resolves when the process has exited; SIGKILLs it if it takes longer than `timeoutMs`. */
  async waitExit(timeoutMs = STOP_GRACE_MS): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    const deadline = Date.now() + timeoutMs;
    while (child.exitCode === null && child.signalCode === null) {
      if (Date.now() > deadline) child.kill('SIGKILL');
      await delay(POLL_MS);
    }
  }

  /** Graceful stop (SIGTERM), forced after a bound; safe to call in any state. */
  async stop(): Promise<void> {
    if (!this.running || this.child === undefined) return;
    if (this.paused) this.signal('SIGCONT');
    this.child.kill('SIGTERM');
    await this.waitExit();
  }

  /** The last `count` lines of the node's log file (stdout and stderr). */
  lastLines(count: number): string[] {
    if (!existsSync(this.logFile)) return [];
    return readFileSync(this.logFile, 'utf8').split('\n').filter((line) => line.trim() !== '').slice(-count);
  }

  /** Lines the node logged at error level or above, or naming a panic or corruption. */
  errorLines(): string[] {
    if (!existsSync(this.logFile)) return [];
    return readFileSync(this.logFile, 'utf8')
      .split('\n')
      .filter((line) => {
        const level = /"level":(\d+)/.exec(line)?.[1];
        return (level !== undefined && Number(level) >= 50) || /panic|corrupt|assert/i.test(line);
      });
  }

  /** The channel's last sequence as the monitoring endpoint reports it (0 if it does not exist). */
  async lastSeq(channel: string): Promise<number> {
    const response = await fetch(`${this.monitorUrl}/streaming/channelsz?channel=${encodeURIComponent(channel)}`, { signal: AbortSignal.timeout(5_000) });
    if (response.status === 404) return 0;
    if (!response.ok) throw new Error(`channelsz for ${channel}: HTTP ${response.status}`);
    const body = (await response.json()) as { last_seq?: number };
    return body.last_seq ?? 0;
  }
}
