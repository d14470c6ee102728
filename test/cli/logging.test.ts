// Proves how the tstan command logs, on spawned processes: JSON on a pipe with no key repeated in
// a line (debug and trace on, FILE store, clients and a protocol error), text in nats-server's
// shape with --log_format text and on a real terminal (a pseudo-terminal from script(1)), and a
// client closed for a bad frame or an oversized payload said at the default level with its address.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { formatLogLine } from '../../src/util/log-text.js';
import { freePort } from '../support/ports.js';
import { RawClient } from '../support/raw-client.js';
import { cliEntry, repoRoot, startTstan } from '../support/tstan-process.js';
import { until } from '../support/embedded.js';

/** The top-level keys of one JSON object line, in order, duplicates kept (JSON.parse drops them). */
function topLevelKeys(line: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (char === '"') {
      let end = i + 1;
      while (line[end] !== '"') end += line[end] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(line.slice(i + 1, end));
      expectKey = false;
      i = end;
    } else if (char === '{' || char === '[') {
      depth++;
      expectKey = char === '{' && depth === 1;
    } else if (char === '}' || char === ']') {
      depth--;
    } else if (char === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return keys;
}

function jsonLines(output: string): Record<string, unknown>[] {
  return output.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
}

const textLine = /^\[\d+\] \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{3} \[(INF|DBG|TRC|WRN|ERR|FTL)\] /;

describe('log lines', () => {
  it('finds repeated keys in a line, so the next test can trust it', () => {
    expect(topLevelKeys('{"a":1,"b":{"a":2},"c":"x,\\"d\\":1","a":3}')).toEqual(['a', 'b', 'c', 'a']);
  });

  it('are JSON on a pipe, with no key repeated in any line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tstan-logkeys-'));
    // A directory that cannot be a channel: the FILE store says so in a line of its own.
    mkdirSync(join(dir, 'not..a.channel'));
    const node = await startTstan(['-DV', '-SDV', '-store', 'file', '-dir', dir]);
    try {
      const nc = await connect({ port: node.port });
      nc.publish('some.subject', new TextEncoder().encode('x'));
      await nc.flush();
      await nc.close();
      const bad = await RawClient.open(node.port);
      bad.send('CONNECT {}\r\nNOT A COMMAND\r\n');
      await bad.waitFor(/-ERR/);
      bad.close();
      await until(() => node.output().includes('closing client'), 10_000, 'the protocol error line');
    } finally {
      expect(await node.stop('SIGTERM')).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
    const lines = node.output().split('\n').filter((line) => line !== '');
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.filter((line) => !line.startsWith('{'))).toEqual([]);
    const components = new Set<unknown>();
    for (const line of lines) {
      const keys = topLevelKeys(line);
      expect(keys.filter((key, index) => keys.indexOf(key) !== index), line).toEqual([]);
      components.add((JSON.parse(line) as Record<string, unknown>)['component']);
    }
    // The parts that used to repeat `component` or `cid` all spoke.
    expect([...components]).toEqual(expect.arrayContaining(['nats', 'stan', 'file-store']));
  });

  it('say a client closed for a bad frame or an oversized payload at the default level, with its address', async () => {
    const node = await startTstan([]);
    try {
      const bad = await RawClient.open(node.port);
      const address = `127.0.0.1:${bad.socket.localPort}`;
      bad.send('CONNECT {}\r\nNOT A COMMAND\r\n');
      await bad.waitFor(/-ERR 'Unknown Protocol Operation'/);
      const big = await RawClient.open(node.port);
      // Read now: once the server closes the socket its local port is gone.
      const bigAddress = `127.0.0.1:${big.socket.localPort}`;
      big.send('CONNECT {}\r\nPUB big 2000000\r\n');
      await big.waitFor(/-ERR 'Maximum Payload Violation'/);
      await until(() => (node.output().match(/closing client/g) ?? []).length === 2, 10_000, 'two protocol error lines');
      const closing = jsonLines(node.output()).filter((line) => String(line['msg']).startsWith('closing client'));
      expect(closing[0]).toMatchObject({ level: 40, component: 'nats', client: address, reason: 'Parse Error' });
      expect(String(closing[0]!['msg'])).toContain('Unknown Protocol Operation');
      expect(typeof closing[0]!['cid']).toBe('number');
      expect(closing[1]).toMatchObject({ level: 40, client: bigAddress });
      expect(String(closing[1]!['msg'])).toContain('Maximum Payload Violation');
      bad.close();
      big.close();
    } finally {
      expect(await node.stop('SIGTERM')).toBe(0);
    }
  });

  it('are text in nats-server\'s shape with --log_format text', async () => {
    const node = await startTstan(['--log_format', 'text']);
    try {
      await until(() => node.output().includes('streaming server ready'), 10_000, 'ready line');
    } finally {
      expect(await node.stop('SIGTERM')).toBe(0);
    }
    const lines = node.output().split('\n').filter((line) => line !== '');
    for (const line of lines) expect(line).toMatch(textLine);
    expect(lines.find((line) => line.includes('NATS server ready'))).toMatch(/\[INF\] nats: NATS server ready host=127\.0\.0\.1 port=\d+ /);
  });

  it('are text on a terminal without being asked, and JSON when --log_format json forces it', async () => {
    const port = await freePort();
    // script(1) runs the command on a pseudo-terminal: stdout is a TTY, as in a person's shell.
    const onTerminal = async (extra: string): Promise<string> => {
      const command = `exec ${process.execPath} --import tsx ${cliEntry} -a 127.0.0.1 -p ${port} ${extra}`;
      const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await until(() => output.includes('streaming server ready') || child.exitCode !== null, 20_000, 'ready line on the terminal');
      // Ctrl-C on the terminal: tstan stops as on SIGINT.
      child.stdin.write('\u0003');
      if (child.exitCode === null) await once(child, 'exit');
      return output.replace(/\r/g, '');
    };
    const text = await onTerminal('');
    expect(text.split('\n').find((line) => line.includes('NATS server ready'))).toMatch(textLine);
    const forced = await onTerminal('--log_format json');
    const ready = forced.split('\n').find((line) => line.includes('NATS server ready')) ?? '';
    expect(JSON.parse(ready)).toMatchObject({ component: 'nats', msg: 'NATS server ready' });
  });

  it('formats fields, errors and their stacks in text', () => {
    const line = JSON.stringify({ level: 50, time: 0, pid: 7, component: 'stan', msg: 'failed', channel: 'a b', n: 2, err: { message: 'boom', stack: 'Error: boom\n    at x' } });
    const text = formatLogLine(line, { color: false });
    expect(text).toMatch(/^\[7\] \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{3} \[ERR\] stan: failed channel="a b" n=2 err=boom\nError: boom\n {4}at x\n$/);
    expect(formatLogLine('not json', { color: false })).toBe('not json\n');
  });
});
