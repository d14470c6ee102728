// Proves the tstan command end to end as a child process: version and usage, unknown flags
// refused by name, and a standalone node that a node-nats-streaming client publishes to and
// subscribes from, stopped gracefully by SIGTERM.
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTstan, startTstan } from '../support/tstan-process.js';
import { until } from '../support/embedded.js';
import { skipWithout } from '../support/test-deps.js';

const require = createRequire(import.meta.url);
interface StanMsg {
  getData(): string | Buffer;
  getSequence(): number;
}
interface StanSub {
  on(event: 'message', handler: (msg: StanMsg) => void): void;
  on(event: 'ready', handler: () => void): void;
}
interface StanOptions {
  setDeliverAllAvailable(): void;
}
interface StanConnection {
  on(event: string, handler: (...args: unknown[]) => void): void;
  publish(subject: string, data: string, callback: (error: Error | undefined, guid: string) => void): string;
  subscriptionOptions(): StanOptions;
  subscribe(subject: string, options: StanOptions): StanSub;
  close(): void;
}
const stan = require('node-nats-streaming') as {
  connect(cluster: string, client: string, options: Record<string, unknown>): StanConnection;
};

describe('tstan command', () => {
  it('prints its version as one line that ends the line', async () => {
    const { code, stdout } = await runTstan(['-v']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^tstan version \d+\.\d+\.\d+[^\n]*\n$/);
  });

  it('prints usage with the reference flags, the defaults of booleans that default to true, and where defaults differ', async () => {
    const { code, stdout } = await runTstan(['-h']);
    expect(code).toBe(0);
    for (const flag of ['-cid', '-store', '-dir', '-mc', '-hbi', '--cluster_node_id']) expect(stdout).toContain(flag);
    const line = (flag: string): string => stdout.split('\n').find((text) => text.trimStart().startsWith(flag)) ?? '';
    expect(line('--file_sync')).toContain('(default: true)');
    expect(line('--file_crc ')).toContain('(default: true)');
    expect(line('--replace_durable')).not.toContain('default');
    expect(line('--cluster_sync')).toContain('(default: true; nats-streaming-server: false)');
    expect(line('--clustered')).not.toContain('[not available yet]');
    const differ = stdout.slice(stdout.indexOf('Defaults that differ from nats-streaming-server:\n'));
    expect(differ).toMatch(/^Defaults that differ from nats-streaming-server:\n( +--.*\n)* +--cluster_sync is true \(nats-streaming-server: false\): .*fsynced on a majority/);
    expect(differ).toMatch(/^Defaults that differ from nats-streaming-server:\n( +--.*\n)* +--encryption_cipher is CHACHA \(nats-streaming-server: AES on x86, CHACHA elsewhere\): .*libsodium/);
  });

  it('refuses an unknown flag, naming it', async () => {
    const { code, stderr } = await runTstan(['--no_such_flag']);
    expect(code).toBe(1);
    expect(stderr).toContain('no_such_flag');
  });

  it('-t accepts exactly what start-up accepts: clustering over the MEMORY store is refused by flag and by a cluster {} block', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tstan-check-'));
    try {
      const conf = join(dir, 'streaming.conf');
      writeFileSync(conf, `streaming {\n  store: memory\n  cluster { node_id: a }\n}\n`);
      for (const args of [['-store', 'memory', '--clustered', '--cluster_node_id', 'a'], ['-sc', conf]]) {
        const checked = await runTstan(['-t', ...args]);
        expect(checked.code).toBe(1);
        expect(checked.stdout).toBe('');
        expect(checked.stderr).toMatch(/^tstan: [^\n]*clustering mode not supported with MEMORY store type[^\n]*\n$/);
        const started = await runTstan(['-p', '-1', ...args]);
        expect(started.code).toBe(1);
        expect(started.stderr).toBe(checked.stderr);
      }
      const valid = await runTstan(['-t', '-store', 'file', '-dir', dir, '--clustered', '--cluster_node_id', 'a', '--cluster_peers', 'a,b,c']);
      expect(valid).toMatchObject({ code: 0, stdout: 'configuration is valid\n', stderr: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('logs JSON to the -l file, and reopens it on SIGUSR1 after a rotation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tstan-log-'));
    const file = join(dir, 'tstan.log');
    const node = await startTstan(['-l', file]);
    try {
      await until(() => existsSync(file) && readFileSync(file, 'utf8').includes('streaming server ready'), 10_000, 'log lines');
      const first = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(first.every((line) => typeof line['time'] === 'number' && typeof line['msg'] === 'string')).toBe(true);
      renameSync(file, `${file}.1`);
      node.child.kill('SIGUSR1');
      await until(() => existsSync(file) && readFileSync(file, 'utf8').includes('log file reopened'), 10_000, 'reopened log');
    } finally {
      expect(await node.stop('SIGTERM')).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('meshes two processes with --cluster and --routes', async () => {
    const { freePort } = await import('../support/ports.js');
    const { connect } = await import('nats');
    const clusterPort = await freePort();
    // Two cluster IDs: two standalone streaming servers with one ID in one mesh refuse to start
    // (the start-up probe finds the other one through the route), as the reference's do.
    const first = await startTstan(['-cid', 'mesh-a', '--cluster', `nats://127.0.0.1:${clusterPort}`, '--cluster_name', 'cli-mesh']);
    const second = await startTstan(['-cid', 'mesh-b', '--cluster', 'nats://127.0.0.1:-1', '--cluster_name', 'cli-mesh', '--routes', `nats-route://127.0.0.1:${clusterPort}`]).catch(async (error: unknown) => {
      // The first one is stopped even when the second never comes up.
      await first.stop('SIGTERM');
      throw error;
    });
    try {
      const routez = async (port: number) => ((await (await fetch(`http://127.0.0.1:${port}/routez`)).json()) as { num_routes: number }).num_routes;
      const deadline = Date.now() + 15_000;
      while ((await routez(first.httpPort)) !== 1 || (await routez(second.httpPort)) !== 1) {
        if (Date.now() > deadline) throw new Error('route never formed');
        await new Promise((r) => setTimeout(r, 50));
      }
      const subscriber = await connect({ port: second.port });
      const publisher = await connect({ port: first.port });
      const sub = subscriber.subscribe('across', { max: 1 });
      subscriber.subscribe('across.ready', { callback: (_e, msg) => msg.respond(new Uint8Array(0)) });
      await subscriber.flush();
      // The request succeeds once the first node has heard the second node's interest.
      for (;;) {
        try {
          await publisher.request('across.ready', new Uint8Array(0), { timeout: 500 });
          break;
        } catch {
          if (Date.now() > deadline) throw new Error('interest never crossed the route');
        }
      }
      publisher.publish('across', new TextEncoder().encode('over the route'));
      for await (const msg of sub) expect(new TextDecoder().decode(msg.data)).toBe('over the route');
      await publisher.close();
      await subscriber.close();
    } finally {
      expect(await second.stop('SIGTERM')).toBe(0);
      expect(await first.stop('SIGTERM')).toBe(0);
    }
  });

  it('reloads channel limits on SIGHUP and says which changes need a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tstan-reload-'));
    const conf = join(dir, 'streaming.conf');
    const log = join(dir, 'tstan.log');
    writeFileSync(conf, 'streaming {\n  hb_interval: "30s"\n  store_limits { max_msgs: 10 }\n}\n');
    const node = await startTstan(['-sc', conf, '-l', log]);
    try {
      const storez = async () =>
        ((await (await fetch(`http://127.0.0.1:${node.httpPort}/streaming/storez`)).json()) as { limits: { max_msgs: number } }).limits;
      expect((await storez()).max_msgs).toBe(10);
      writeFileSync(conf, 'streaming {\n  hb_interval: "20s"\n  store_limits { max_msgs: 25 }\n}\n');
      node.child.kill('SIGHUP');
      await until(() => existsSync(log) && readFileSync(log, 'utf8').includes('not reloaded'), 10_000, 'reload log');
      expect((await storez()).max_msgs).toBe(25);
      const lines = readFileSync(log, 'utf8');
      expect(lines).toMatch(/reloaded: .*max_?[mM]sgs/);
      expect(lines).toMatch(/needs a restart: .*(hb_?[iI]nterval|heartbeatInterval)/);
    } finally {
      expect(await node.stop('SIGTERM')).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(skipWithout('nats-server'))('runs on an external NATS server with -ns, serving monitoring on its own port', async () => {
    const { startOracle } = await import('../support/nats-server.js');
    const oracle = await startOracle();
    const node = await startTstan(['-cid', 'ns-cluster', '-ns', oracle.url]);
    try {
      expect(node.port).toBe(0);
      const sc = stan.connect('ns-cluster', 'ns-client', { url: oracle.url });
      await new Promise<void>((resolve, reject) => {
        sc.on('connect', () => resolve());
        sc.on('error', (error) => reject(error as Error));
      });
      await new Promise<string>((resolve, reject) => sc.publish('ns.channel', 'via nats-server', (error, id) => (error ? reject(error) : resolve(id))));
      const nsOptions = sc.subscriptionOptions();
      nsOptions.setDeliverAllAvailable();
      const sub = sc.subscribe('ns.channel', nsOptions);
      const msg = await new Promise<StanMsg>((resolve) => sub.on('message', resolve));
      expect(String(msg.getData())).toBe('via nats-server');
      const channelsz = (await (await fetch(`http://127.0.0.1:${node.httpPort}/streaming/channelsz?channel=ns.channel`)).json()) as Record<string, unknown>;
      expect(channelsz).toMatchObject({ name: 'ns.channel', msgs: 1 });
      await new Promise<void>((resolve) => {
        sc.on('close', () => resolve());
        sc.close();
      });
    } finally {
      expect(await node.stop('SIGTERM')).toBe(0);
      await oracle.stop();
    }
  });

  it('runs on the FILE store in the reference layout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tstan-file-'));
    const node = await startTstan(['-cid', 'file-cluster', '-store', 'file', '-dir', dir]);
    try {
      const sc = stan.connect('file-cluster', 'file-client', { url: `nats://127.0.0.1:${node.port}` });
      await new Promise<void>((resolve, reject) => {
        sc.on('connect', () => resolve());
        sc.on('error', (error) => reject(error as Error));
      });
      await new Promise<string>((resolve, reject) => sc.publish('file.channel', 'stored', (error, id) => (error ? reject(error) : resolve(id))));
      await new Promise<void>((resolve) => {
        sc.on('close', () => resolve());
        sc.close();
      });
      expect(readdirSync(dir)).toEqual(expect.arrayContaining(['server.dat', 'clients.dat', 'file.channel']));
      expect(readdirSync(join(dir, 'file.channel'))).toEqual(expect.arrayContaining(['msgs.1.dat', 'msgs.1.idx', 'subs.dat']));
    } finally {
      expect(await node.stop('SIGTERM')).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves a node-nats-streaming client and stops on SIGTERM', async () => {
    const node = await startTstan(['-cid', 'cli-cluster']);
    try {
      const sc = stan.connect('cli-cluster', 'cli-client', { url: `nats://127.0.0.1:${node.port}` });
      await new Promise<void>((resolve, reject) => {
        sc.on('connect', () => resolve());
        sc.on('error', (error) => reject(error as Error));
      });
      const guid = await new Promise<string>((resolve, reject) =>
        sc.publish('cli.channel', 'hello', (error, id) => (error ? reject(error) : resolve(id))),
      );
      expect(guid).not.toBe('');
      const options = sc.subscriptionOptions();
      options.setDeliverAllAvailable();
      const sub = sc.subscribe('cli.channel', options);
      const msg = await new Promise<StanMsg>((resolve) => sub.on('message', resolve));
      expect(String(msg.getData())).toBe('hello');
      expect(msg.getSequence()).toBe(1);
      await new Promise<void>((resolve) => {
        sc.on('close', () => resolve());
        sc.close();
      });
      const health = await fetch(`http://127.0.0.1:${node.httpPort}/healthz`);
      expect(health.status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${node.httpPort}/readyz`)).status).toBe(200);
      const serverz = (await (await fetch(`http://127.0.0.1:${node.httpPort}/streaming/serverz`)).json()) as Record<string, unknown>;
      expect(serverz).toMatchObject({ cluster_id: 'cli-cluster', state: 'STANDALONE' });
      const channelsz = (await (await fetch(`http://127.0.0.1:${node.httpPort}/streaming/channelsz?channel=cli.channel`)).json()) as Record<string, unknown>;
      expect(channelsz).toMatchObject({ name: 'cli.channel', msgs: 1, last_seq: 1 });
      const metrics = await (await fetch(`http://127.0.0.1:${node.httpPort}/metrics`)).text();
      expect(metrics).toMatch(/^tstan_messages_in_total 1$/m);
    } finally {
      expect(await node.stop('SIGTERM')).toBe(0);
    }
  });
});
