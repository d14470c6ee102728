// Proves the bundled tstan command (scripts/bundle.mjs, what `npm start` and the `tstan` bin run):
// built here into a scratch directory beside dist/bin, it prints its version, serves a
// node-nats-streaming client with monitoring on, loads before its client port listens none of the
// modules that start-up defers (the streaming layer, prom-client, the `nats` client, the stores),
// maps no native add-on when standalone, and carries no protobuf library at all (the protocol
// codecs are hand-written).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, runTstan, startTstan } from '../support/tstan-process.js';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const stan = require('node-nats-streaming') as {
  connect(cluster: string, client: string, options: Record<string, unknown>): {
    on(event: string, handler: (...args: unknown[]) => void): void;
    publish(subject: string, data: string, callback: (error: Error | undefined, guid: string) => void): string;
    close(): void;
  };
};

interface Metafile {
  outputs: Record<string, { entryPoint?: string; imports: { path: string; kind: string }[]; inputs: Record<string, unknown> }>;
}

// Two levels below the package root, as dist/bin is, so package.json and proto/ are found alike.
const outdir = join(repoRoot, 'dist', `bundle-test-${process.pid}`);
const metafilePath = join(outdir, 'meta.json');
const entry = join(outdir, 'tstan.js');

describe('the bundled tstan command', () => {
  beforeAll(async () => {
    await run(process.execPath, [join(repoRoot, 'scripts', 'bundle.mjs'), '--outdir', outdir, '--metafile', metafilePath], { cwd: repoRoot });
  }, 60_000);

  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('prints the version of package.json', async () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    const { code, stdout } = await runTstan(['-v'], { entry });
    expect(code).toBe(0);
    expect(stdout).toBe(`tstan version ${pkg.version}, NATS Streaming protocol compatible with nats-streaming-server v0.25.6\n`);
  });

  it('serves a STAN client and its monitoring endpoints, loading the deferred chunks', async () => {
    const node = await startTstan(['-cid', 'bundle-cluster'], { entry });
    try {
      const sc = stan.connect('bundle-cluster', 'bundle-client', { url: `nats://127.0.0.1:${node.port}` });
      await new Promise<void>((resolve, reject) => {
        sc.on('connect', () => resolve());
        sc.on('error', (error) => reject(error as Error));
      });
      await new Promise<string>((resolve, reject) => sc.publish('bundle.channel', 'hi', (error, guid) => (error ? reject(error) : resolve(guid))));
      await new Promise<void>((resolve) => {
        sc.on('close', () => resolve());
        sc.close();
      });
      const metrics = await (await fetch(`http://127.0.0.1:${node.httpPort}/metrics`)).text();
      expect(metrics).toMatch(/^tstan_messages_in_total 1$/m);
    } finally {
      expect(await node.stop('SIGTERM')).toBe(0);
    }
  });

  it('defers the streaming layer, prom-client, the nats client and the stores until after the client port listens', () => {
    const meta = JSON.parse(readFileSync(metafilePath, 'utf8')) as Metafile;
    const outputs = meta.outputs;
    const entryOutput = Object.keys(outputs).find((path) => outputs[path]!.entryPoint === 'src/cli/main.ts');
    expect(entryOutput).toBeDefined();
    // Everything reachable from the entry through static imports is evaluated before main() runs.
    const eager = new Set<string>();
    const visit = (path: string): void => {
      if (eager.has(path)) return;
      eager.add(path);
      for (const imported of outputs[path]?.imports ?? []) if (imported.kind === 'import-statement' && outputs[imported.path]) visit(imported.path);
    };
    visit(entryOutput!);
    const eagerInputs = [...eager].flatMap((path) => Object.keys(outputs[path]!.inputs));
    const deferred = [/node_modules\/prom-client\//, /node_modules\/nats\//, /^src\/server\//, /^src\/store\/(file|memory)\//];
    for (const pattern of deferred) expect(eagerInputs.filter((input) => pattern.test(input)), String(pattern)).toEqual([]);
    // ...and they are in the bundle, in chunks loaded on demand.
    const allInputs = Object.values(outputs).flatMap((output) => Object.keys(output.inputs));
    for (const pattern of deferred) expect(allInputs.some((input) => pattern.test(input)), String(pattern)).toBe(true);
  });

  it('loads no native add-on in a standalone server: msgpack, level and sodium are for clustering and encryption', async () => {
    for (const store of ['memory', 'file']) {
      const dir = join(outdir, `data-${store}`);
      const node = await startTstan(['-cid', 'bundle-native', '-st', store, '-dir', dir], { entry });
      try {
        const maps = readFileSync(`/proc/${node.child.pid}/maps`, 'utf8');
        expect(maps).toContain('/node');
        expect(maps.split('\n').filter((line) => line.endsWith('.node')), store).toEqual([]);
      } finally {
        expect(await node.stop('SIGTERM')).toBe(0);
      }
    }
  });

  it('carries no protobuf library: no chunk holds protobufjs or its long.js', () => {
    const meta = JSON.parse(readFileSync(metafilePath, 'utf8')) as Metafile;
    const allInputs = Object.values(meta.outputs).flatMap((output) => Object.keys(output.inputs));
    expect(allInputs.filter((input) => /node_modules\/(protobufjs|@protobufjs|long)\//.test(input))).toEqual([]);
  });
});
