// Proves our reading of nats-server's syntax against Debian's nats-server 2.9 itself (the oracle,
// installed by npm's pretest where it can be): every NATS flag name of our fixture is a flag it defines, and it agrees
// with our parser on which files are valid and where an unknown key sits. Runs `nats-server -t`.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOptions } from '../../src/config/load.js';
import { ConfigError } from '../../src/util/errors.js';
import { skipWithout } from '../support/test-deps.js';

const scratch = mkdtempSync(join(tmpdir(), 'tstan-oracle-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const emptyConf = join(scratch, 'empty.conf');
writeFileSync(emptyConf, '\n');

interface OracleResult {
  readonly status: number | null;
  readonly output: string;
}

/** `nats-server ARGS -t -c CONF`: checks the configuration and exits; throws if the binary is missing. */
function checkWithNatsServer(args: readonly string[], conf: string, env: NodeJS.ProcessEnv = {}): OracleResult {
  const result = spawnSync('nats-server', [...args, '-t', '-c', conf], {
    encoding: 'utf8', timeout: 10_000, env: { PATH: process.env['PATH'] ?? '/usr/bin:/usr/sbin:/bin', ...env },
  });
  if (result.error !== undefined) throw new Error(`cannot run nats-server (apt-get install -y nats-server): ${result.error.message}`);
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const natsGroups = new Set([
  'Embedded NATS Server Options', 'Logging Options', 'Authorization Options', 'TLS Options', 'NATS Clustering Options',
  'Other NATS Server Options', 'Common Options',
]);

function fixtureNatsNames(): { name: string; kind: string }[] {
  const text = readFileSync(new URL('./fixtures/reference-usage.txt', import.meta.url), 'utf8');
  return text.split('\n')
    .filter((line) => line.includes('|') && !line.startsWith('#'))
    .map((line) => line.split('|').map((part) => part.trim()))
    .filter(([group]) => natsGroups.has(group ?? ''))
    .flatMap(([, names = '', kind = '']) => names.split(/\s+/).map((name) => ({ name, kind })));
}

describe.skipIf(skipWithout('nats-server'))('flags against nats-server 2.9', () => {
  const names = fixtureNatsNames();

  it('covers the NATS groups of the fixture', () => {
    expect(names.length).toBeGreaterThan(50);
  });

  it.each(names.map((item) => [item.name, item] as const))('-%s is a nats-server flag', (_name, item) => {
    const value = item.kind === 'int' ? '1' : item.kind === 'size' ? '1024' : 'x';
    const args = item.kind === 'bool' ? [`-${item.name}`] : [`--${item.name}=${value}`];
    expect(checkWithNatsServer(args, emptyConf).output).not.toMatch(/flag provided but not defined/);
  });

  it('tells a streaming-only flag apart (the check can fail)', () => {
    expect(checkWithNatsServer(['-cid=x'], emptyConf).output).toMatch(/flag provided but not defined: -cid/);
  });
});

function write(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

function ourError(path: string, env: NodeJS.ProcessEnv): string | undefined {
  try {
    loadOptions(['-c', path], env);
    return undefined;
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
}

describe.skipIf(skipWithout('nats-server'))('configuration files against nats-server 2.9', () => {
  write('inc.conf', 'debug: yes\n');
  const env = { TSTAN_ORACLE_PORT: '4777' };
  const valid: readonly (readonly [string, string])[] = [
    ['separators and comments', '# c\nport = 4333\nhttp: 8333\n// c\nserver_name "n1"\nlogtime: true\n'],
    ['blocks, arrays, include, variables', `TOKEN: "t0k"
authorization {
  token: $TOKEN
  timeout: 2
}
cluster {
  listen: "127.0.0.1:6333"
  routes [
    nats://127.0.0.1:6334
    "nats://127.0.0.1:6335", nats://127.0.0.1:6336
  ]
  name: c1
}
include 'inc.conf'
port: $TSTAN_ORACLE_PORT
`],
    ['sizes, durations, booleans', 'max_payload: 512KB\nmax_pending: 64MB\nmax_control_line: 4KB\nping_interval: "1m"\nwrite_deadline: "2s"\nping_max: 3\ntrace: off\ndebug: false\n'],
    ['listen forms', 'listen: 127.0.0.1:4334\nhttp: "127.0.0.1:8334"\n'],
  ];
  it.each(valid.map(([name, text], index) => [name, text, index] as const))('both accept: %s', (_name, text, index) => {
    const path = write(`valid${index}.conf`, text);
    const oracle = checkWithNatsServer([], path, env);
    expect(oracle.output).toMatch(/is valid/);
    expect(ourError(path, env)).toBeUndefined();
  });

  const invalid: readonly (readonly [string, string])[] = [
    ['an unclosed block', 'port: 1\ncluster {\n  name: a\n'],
    ['an unclosed array', 'cluster { routes: [nats://a:1\n}\n'],
    ['an unterminated string', 'server_name: "abc\nport: 1\n'],
    ['an undefined variable', 'port: $TSTAN_ORACLE_UNDEFINED\n'],
    ['a missing include', "include 'no-such-file.conf'\n"],
  ];
  it.each(invalid.map(([name, text], index) => [name, text, index] as const))('both refuse: %s', (_name, text, index) => {
    const path = write(`invalid${index}.conf`, text);
    expect(checkWithNatsServer([], path, env).status).not.toBe(0);
    expect(ourError(path, env)).toMatch(/invalid\d\.conf/);
  });

  it('both place an unknown key at the same line and column', () => {
    const path = write('unknown.conf', 'port: 4000\n\n   bogus_key: 2\n');
    const oracle = checkWithNatsServer([], path, env);
    expect(oracle.output).toMatch(/unknown\.conf:3:4: unknown field "bogus_key"/);
    expect(ourError(path, env)).toMatch(/unknown\.conf:3:4: unknown key "bogus_key"/);
  });
});
