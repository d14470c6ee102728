// Proves every flag of the option table is accepted in each of its spellings (-x, --x, `-x v`,
// `-x=v`) with the same effect, and that every not-yet option is refused when set and accepted
// at its default. Table-driven: one case per flag name, generated from the table itself.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOptions } from '../../src/config/load.js';
import type { OptionSpec } from '../../src/config/option-spec.js';
import { optionTable } from '../../src/config/option-table.js';
import { ConfigError } from '../../src/util/errors.js';

const scratch = mkdtempSync(join(tmpdir(), 'tstan-flags-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const emptyConf = join(scratch, 'empty.conf');
writeFileSync(emptyConf, '# nothing\n');
// TLS settings need a certificate and a key; the files are read only at start-up and by -t.
const tlsConf = join(scratch, 'tls.conf');
writeFileSync(tlsConf, 'tls { cert_file: "c.pem", key_file: "k.pem" }\n');
const clientTlsConf = join(scratch, 'client-tls.conf');
writeFileSync(clientTlsConf, 'streaming { tls { client_cert: "c.pem", client_key: "k.pem" } }\n');

const sampleById: Readonly<Record<string, string>> = {
  'streaming.cluster_id': 'c1',
  'streaming.store': 'file',
  'streaming.nats_server': 'nats://127.0.0.1:4333',
  'streaming.stan_config': emptyConf,
  'nats.config': emptyConf,
  'nats.addr': '127.0.0.1',
  'routes.listen': 'nats://127.0.0.1:6222',
  'routes.routes': 'nats://a:6222,nats://b:6222',
  'clustering.node_id': 'n1',
  'clustering.peers': 'p1,p2',
  'streaming.signal': 'stop',
  'logging.log_format': 'text',
  // TLS is on in the context: -tls=false is what changes something.
  'tls.tls': 'false',
  'streaming.encryption_cipher': 'CHACHA',
};
/** The environment a flag needs to be valid: -encrypt needs a key, here from where the reference prefers it. */
const envById: Readonly<Record<string, NodeJS.ProcessEnv>> = {
  'streaming.encrypt': { NATS_STREAMING_ENCRYPTION_KEY: 'k' },
};
const contextById: Readonly<Record<string, readonly string[]>> = {
  'streaming.store': ['-dir', scratch],
  'clustering.clustered': ['-st', 'FILE', '-dir', scratch],
  'tls.tls': ['-c', tlsConf],
  'tls.tlscert': ['-c', tlsConf],
  'tls.tlskey': ['-c', tlsConf],
  'tls.tlsverify': ['-c', tlsConf],
  'tls.tlscacert': ['-c', tlsConf],
  'nats.https_port': ['-c', tlsConf],
  'streaming_tls.client_cert': ['-sc', clientTlsConf],
  'streaming_tls.client_key': ['-sc', clientTlsConf],
};

function sampleOf(spec: OptionSpec): string {
  const special = sampleById[spec.id];
  if (special !== undefined) return special;
  switch (spec.kind) {
    case 'bool':
      return spec.defaultValue === true ? 'false' : 'true';
    case 'int':
      return '7';
    case 'duration':
      return '90s';
    case 'size':
      return '10KB';
    default:
      return 'sample';
  }
}

/** Every way Go's flag package lets a user write this flag with this value. */
function spellings(flag: string, spec: OptionSpec, value: string): string[][] {
  const forms = [[`-${flag}=${value}`], [`--${flag}=${value}`]];
  if (spec.kind === 'bool') {
    if (value === 'true') forms.push([`-${flag}`], [`--${flag}`]);
  } else {
    forms.push([`-${flag}`, value], [`--${flag}`, value]);
  }
  return forms;
}

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const withFlags = optionTable.filter((spec) => spec.flags.length > 0);

describe('every supported flag, in every spelling', () => {
  const supported = withFlags.filter((spec) => spec.status.supported);
  it.each(supported.map((spec) => [spec.id, spec] as const))('%s', (_id, spec) => {
    const context = contextById[spec.id] ?? [];
    const env = envById[spec.id] ?? {};
    const baseline = loadOptions(context, env);
    const value = sampleOf(spec);
    const results = spec.flags.flatMap((flag) => spellings(flag, spec, value)).map((words) => loadOptions([...context, ...words], env));
    expect(results.length).toBeGreaterThanOrEqual(spec.flags.length * 2);
    for (const result of results) expect(result).toEqual(results[0]);
    expect(results[0]).not.toEqual(baseline);
  });
});

describe('every not-yet flag', () => {
  const notYet = withFlags.filter((spec) => !spec.status.supported);
  it.each(notYet.map((spec) => [spec.id, spec] as const))('%s is refused when set, accepted at its default', (_id, spec) => {
    for (const flag of spec.flags) {
      for (const words of spellings(flag, spec, sampleOf(spec))) {
        const error = configErrorOf(() => loadOptions(words, {}));
        expect(error.code).toBe('CONFIG_INVALID');
        expect(error.message).toBe(`tstan does not support -${flag} yet: ${spec.status.supported ? '' : spec.status.reason}`);
      }
      const atDefault = Array.isArray(spec.defaultValue) ? '' : String(spec.defaultValue);
      expect(loadOptions([`--${flag}=${atDefault}`], {})).toEqual(loadOptions([], {}));
    }
  });
});

describe('flag values', () => {
  it('converts each kind as the reference does', () => {
    const options = loadOptions(
      ['-mb', '10MB', '-ma', '1.5h', '-mi', '1h30m', '-hbi', '90s', '-mm', '0x10', '--file_slice_max_bytes=1KB',
        '--cluster_peers', ' a, b ,,c', '--routes=nats://x:1,nats://y:2', '-cluster', 'nats://127.0.0.1:-1'],
      {},
    );
    expect(options.streaming.limits.global).toMatchObject({ maxBytes: 10 * 1024 * 1024, maxAgeMs: 5_400_000, maxInactivityMs: 5_400_000, maxMsgs: 16 });
    expect(options.streaming.heartbeatIntervalMs).toBe(90_000);
    expect(options.fileStore.sliceMaxBytes).toBe(1024);
    expect(options.clustering.peers).toEqual(['a', 'b', 'c']);
    expect(options.routes).toMatchObject({ routes: ['nats://x:1', 'nats://y:2'], listenHost: '127.0.0.1', listenPort: -1 });
  });

  it('names the flag and the value that does not parse', () => {
    const cases: readonly (readonly [string[], string])[] = [
      [['-p', 'abc'], 'invalid value "abc" for flag -p: invalid integer value "abc"'],
      [['-hbi=10'], 'invalid value "10" for flag -hbi: invalid duration "10" (examples: 90s, 1h30m, 1.5h)'],
      [['-mb', '1.5MB'], 'invalid value "1.5MB" for flag -mb: invalid size "1.5MB" (examples: 1024, 1KB, 10MB)'],
      [['-SD=yes'], 'invalid value "yes" for flag -SD: invalid boolean value "yes"'],
      [['-st', 'disk'], 'invalid value "disk" for flag -st: unknown store type "disk": use MEMORY, FILE or SQL'],
      [['--cluster', 'nats://u@h:6222'], 'invalid value "nats://[redacted]@h:6222" for flag -cluster: expected cluster password to be set'],
      [['--cluster', 'nats://u:s3cret@h:x'], 'invalid value "nats://[redacted]@h:x" for flag -cluster: "(not shown)" is not a host:port or URL'],
      [['-SD', 'false'], 'unrecognized command: "false" (a boolean flag takes its value after "=": -SD=false)'],
      [['-p', '1', 'false'], 'unrecognized command: "false"'],
      [['--bogus'], 'flag provided but not defined: -bogus'],
      [['-p'], 'flag needs an argument: -p'],
    ];
    for (const [argv, message] of cases) expect(configErrorOf(() => loadOptions(argv, {})).message).toBe(message);
  });

  it('keeps the last of repeated flags and applies -SDV/-DV after the others', () => {
    expect(loadOptions(['-cid', 'a', '--cluster_id=b', '-cid=c'], {}).streaming.clusterId).toBe('c');
    const logging = loadOptions(['-SDV', '-SD=false'], {}).logging;
    expect([logging.stanDebug, logging.stanTrace, logging.level]).toEqual([true, true, 'trace']);
    expect(loadOptions(['-DV=false', '-D'], {}).logging).toMatchObject({ debug: false, trace: false, level: 'info' });
    expect(loadOptions(['-D'], {}).logging.level).toBe('debug');
  });

  it('stops at -- and accepts the version and help commands', () => {
    expect(configErrorOf(() => loadOptions(['-D', '--', '-p', '1'], {})).message).toBe('unrecognized command: "-p"');
    expect(loadOptions(['version'], {}).action).toBe('version');
    expect(loadOptions(['-D', 'help'], {}).action).toBe('help');
    expect(loadOptions(['-h', '-v'], {}).action).toBe('help');
    expect(loadOptions(['-t'], {}).action).toBe('check');
  });
});
