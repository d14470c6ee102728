// Starts Debian's nats-server (the oracle) on free ports and stops it. npm's pretest installs it
// where it can (scripts/test-deps.mjs); tests that need it are skipped only through
// test/support/test-deps.ts, which says so, and a missing binary here is an error that says how
// to install it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { installCommand, missingTestTools } from '../../scripts/test-deps.mjs';

export interface OracleServer {
  readonly port: number;
  readonly clusterPort: number;
  readonly httpPort: number;
  readonly url: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export interface OracleOptions {
  args?: string[];
  cluster?: boolean;
}

async function waitForPortsFile(dir: string, child: ChildProcess, timeoutMs: number): Promise<Record<string, string[]>> {
  const deadline = Date.now() + timeoutMs;
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  for (;;) {
    if (spawnError !== undefined) {
      throw new Error(`cannot run nats-server (${spawnError.message}): ${installCommand(missingTestTools(['nats-server']))}`);
    }
    const file = readdirSync(dir).find((name) => name.endsWith('.ports'));
    if (file) {
      try {
        return JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, string[]>;
      } catch {
        // written but not complete yet
      }
    }
    if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('nats-server did not write its ports file');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function portOf(urls: string[] | undefined): number {
  const url = urls?.[0];
  return url ? Number(new URL(url.replace(/^nats-route/, 'nats')).port) : 0;
}

export async function startOracle(options: OracleOptions = {}): Promise<OracleServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tstan-oracle-'));
  const args = ['-a', '127.0.0.1', '-p', '-1', '-m', '-1', '--ports_file_dir', dir];
  if (options.cluster) args.push('--cluster', 'nats://127.0.0.1:-1');
  args.push(...(options.args ?? []));
  const child = spawn('nats-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.resume();
  const ports = await waitForPortsFile(dir, child, 10_000);
  const port = portOf(ports['nats']);
  return {
    port,
    clusterPort: portOf(ports['cluster']),
    httpPort: portOf(ports['monitoring']),
    url: `nats://127.0.0.1:${port}`,
    process: child,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
