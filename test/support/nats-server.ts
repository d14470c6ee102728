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

async function routesOf(oracle: OracleServer): Promise<number> {
  try {
    const response = await fetch(`http://127.0.0.1:${oracle.httpPort}/routez`, { signal: AbortSignal.timeout(2_000) });
    return ((await response.json()) as { num_routes: number }).num_routes;
  } catch {
    return -1;
  }
}

/**
 * `size` nats-servers meshed by routes (each soliciting the first), each started with `args`
 * (e.g. `-c conf`); resolves once every one has a route to every other. Stops what it started if
 * the mesh does not form.
 */
export async function startOracleCluster(size: number, args: string[] = [], timeoutMs = 15_000): Promise<OracleServer[]> {
  const servers: OracleServer[] = [];
  try {
    const seed = await startOracle({ cluster: true, args });
    servers.push(seed);
    for (let i = 1; i < size; i++) {
      servers.push(await startOracle({ cluster: true, args: [...args, '--routes', `nats://127.0.0.1:${seed.clusterPort}`] }));
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const routes = await Promise.all(servers.map(routesOf));
      if (routes.every((count) => count === size - 1)) return servers;
      if (Date.now() > deadline) throw new Error(`nats-server cluster did not form: routes ${routes.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    await Promise.all(servers.map((server) => server.stop()));
    throw error;
  }
}
