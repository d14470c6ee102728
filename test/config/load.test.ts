// Proves how loadOptions() combines defaults, -c and -sc files and flags (precedence, which file
// part goes where), per-channel limits, unknown keys named with file and line, whole-config
// validation, and that the result is deep-frozen. Real files in a temporary directory.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOptions } from '../../src/config/load.js';
import { defaultOptionsDraft } from '../../src/config/options.js';
import { ConfigError } from '../../src/util/errors.js';

const scratch = mkdtempSync(join(tmpdir(), 'tstan-load-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('CONFIG_INVALID');
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('defaults', () => {
  it('are the reference server defaults', () => {
    const options = loadOptions([], {});
    expect(options.action).toBe('run');
    expect(options.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(options.streaming).toMatchObject({
      clusterId: 'test-cluster', storeType: 'MEMORY', heartbeatIntervalMs: 30_000, heartbeatTimeoutMs: 10_000,
      heartbeatFailCountMax: 10, discoverPrefix: '_STAN.discover', replaceDurable: false,
    });
    expect(options.streaming.limits).toEqual({
      maxChannels: 100,
      global: { maxSubscriptions: 1000, maxMsgs: 1_000_000, maxBytes: 1_024_000_000, maxAgeMs: 0, maxInactivityMs: 0 },
      perChannel: [],
    });
    expect(options.nats).toMatchObject({ host: '0.0.0.0', port: 4222, httpPort: 0 });
    expect(options.clustering).toMatchObject({ clustered: false, logCacheSize: 512, logSnapshots: 2, trailingLogs: 10_240 });
    expect(options.logging).toMatchObject({ level: 'info', timestamps: true, file: '' });
  });

  it('come out deep-frozen', () => {
    const options = loadOptions(['-sc', file('frozen.conf', 'store_limits { channels { a: { max_msgs: 1 } } }')], {});
    expect(Object.isFrozen(options)).toBe(true);
    expect(Object.isFrozen(options.streaming.limits.perChannel)).toBe(true);
    expect(Object.isFrozen(options.streaming.limits.perChannel[0]?.limits)).toBe(true);
    expect(Object.isFrozen(options.clustering.peers)).toBe(true);
    expect(() => {
      (options.nats as { port: number }).port = 1;
    }).toThrow(TypeError);
  });
});

describe('precedence: defaults, then files, then flags', () => {
  it('lets the -sc file override the -c file, and flags override both', () => {
    const nats = file('p-nats.conf', 'port: 5000\nstreaming { id: from-c, hb_interval: "5s" }\n');
    const stan = file('p-stan.conf', 'streaming { id: from-sc }\n');
    expect(loadOptions(['-c', nats], {}).streaming.clusterId).toBe('from-c');
    const both = loadOptions(['-c', nats, '-sc', stan], {});
    expect(both.streaming.clusterId).toBe('from-sc');
    // With both files, the -c file's streaming block is not read: -sc holds the streaming part.
    expect(both.streaming.heartbeatIntervalMs).toBe(30_000);
    expect(both.nats.port).toBe(5000);
    const flagged = loadOptions(['-p', '6000', '-c', nats, '-sc', stan, '-cid', 'from-flag'], {});
    expect([flagged.nats.port, flagged.streaming.clusterId]).toEqual([6000, 'from-flag']);
  });

  it('keeps flag order irrelevant to precedence: a flag before -c still wins', () => {
    const nats = file('order.conf', 'port: 5001\ndebug: true\n');
    const options = loadOptions(['-p=7001', '-D=false', '-c', nats], {});
    expect([options.nats.port, options.logging.debug]).toEqual([7001, false]);
  });

  it('lets the last line written win, even when two keys set the same option', () => {
    const conf = file('last.conf', 'port: 1111\nlisten: "127.0.0.1:2222"\nport: 3333\n');
    expect(loadOptions(['-c', conf], {}).nats).toMatchObject({ host: '127.0.0.1', port: 3333 });
  });

  it('uses one file for both parts when only one is given', () => {
    const shared = file('shared.conf', 'port: 4333\nstreaming { cid: shared }\n');
    for (const flag of ['-c', '-sc']) {
      const options = loadOptions([flag, shared], {});
      expect([options.nats.port, options.streaming.clusterId]).toEqual([4333, 'shared']);
    }
  });

  it('reads streaming keys at the top level when there is no streaming block', () => {
    const flat = file('flat.conf', `port: 4444\ncluster_id: flat\nstore: file\ndir: "${scratch}"\nhb_interval: "3s"\n`);
    const options = loadOptions(['-sc', flat], {});
    expect(options.streaming).toMatchObject({ clusterId: 'flat', storeType: 'FILE', dir: scratch, heartbeatIntervalMs: 3000 });
    expect(options.nats.port).toBe(4444);
  });

  it('gives cluster {} to the part the file was given for', () => {
    const text = `store: file\ndir: "${scratch}"\ncluster { node_id: a, bootstrap: true }\n`;
    const asStreaming = loadOptions(['-sc', file('cl-sc.conf', text)], {});
    expect(asStreaming.clustering).toMatchObject({ clustered: true, nodeId: 'a', bootstrap: true });
    expect(messageOf(() => loadOptions(['-c', file('cl-c.conf', text)], {})))
      .toMatch(/cl-c\.conf:3:11: unknown key "node_id" in the NATS cluster block/);
    const routes = loadOptions(['-c', file('routes.conf', 'cluster { listen: "127.0.0.1:6555", routes: [nats://a:1], name: c, no_advertise: true, connect_retries: 3 }\n')], {});
    expect(routes.routes).toEqual({
      listenHost: '127.0.0.1', listenPort: 6555, name: 'c', routes: ['nats://a:1'], advertise: '', noAdvertise: true, connectRetries: 3,
      tls: null, user: '', password: '', authTimeoutMs: 2000,
    });
  });

  it('resolves $VAR from the environment passed in, and does not count variables as unknown keys', () => {
    const conf = file('vars.conf', 'SECRET: "s3"\nauthorization { token: $SECRET }\nport: $TSTAN_PORT\n');
    const options = loadOptions(['-c', conf], { TSTAN_PORT: '4555' });
    expect([options.nats.authToken, options.nats.port]).toEqual(['s3', 4555]);
  });
});

describe('a whole deployment file', () => {
  it('configures NATS, routes, streaming, file store and clustering from one file', () => {
    const conf = file('node-a.conf', `
      host: 0.0.0.0
      port: 4221
      http: 8222
      cluster {
        listen: 0.0.0.0:6221
        routes: ["nats://localhost:6222", "nats://localhost:6223"]
      }
      streaming {
        cluster_id: "test-cluster"
        store: "file"
        dir: "${scratch}/a/store"
        secure: false
        file { sync_on_flush: false, slice_max_bytes: 32MB, auto_sync: "30s" }
        cluster {
          node_id: "node-a"
          peers: ["node-b", "node-c"]
          log_path: "${scratch}/a/raft"
          raft_logging: true
          raft_election_timeout: "5s"
          raft_heartbeat_timeout: "5s"
          raft_lease_timeout: "3s"
        }
      }`);
    const options = loadOptions(['-c', conf], {});
    expect(options.nats).toMatchObject({ host: '0.0.0.0', port: 4221, httpPort: 8222 });
    expect(options.routes).toMatchObject({ listenHost: '0.0.0.0', listenPort: 6221, routes: ['nats://localhost:6222', 'nats://localhost:6223'] });
    expect(options.streaming).toMatchObject({ clusterId: 'test-cluster', storeType: 'FILE', dir: `${scratch}/a/store` });
    expect(options.fileStore).toMatchObject({ syncOnFlush: false, sliceMaxBytes: 32 * 1024 * 1024, autoSyncIntervalMs: 30_000 });
    expect(options.clustering).toMatchObject({
      clustered: true, nodeId: 'node-a', peers: ['node-b', 'node-c'], logPath: `${scratch}/a/raft`, raftLogging: true,
      electionTimeoutMs: 5000, heartbeatTimeoutMs: 5000, leaseTimeoutMs: 3000, commitTimeoutMs: 100,
    });
  });

  it('names a misspelt key of such a file', () => {
    const conf = file('typo.conf', 'streaming {\n  store: file\n  dir: "/d"\n  cluster {\n    node_id: a\n    bootsrap: true\n  }\n}\n');
    expect(messageOf(() => loadOptions(['-sc', conf], {})))
      .toMatch(/typo\.conf:6:5: unknown key "bootsrap" in the streaming cluster block/);
  });
});

describe('store limits', () => {
  it('reads global and per-channel limits; 0 per channel means unlimited', () => {
    const conf = file('limits.conf', `streaming {
      store_limits {
        max_channels: 10
        max_msgs: 500
        max_bytes: 1MB
        max_age: "2h"
        max_subs: 7
        max_inactivity: "10m"
        channels {
          "orders.*": { max_msgs: 0, max_age: "1h" }
          "audit.>": { max_bytes: 2KB, mi: "30s", msu: 3 }
          plain: { maxmsgs: 5 }
        }
      }
    }`);
    const limits = loadOptions(['-sc', conf], {}).streaming.limits;
    expect(limits.maxChannels).toBe(10);
    expect(limits.global).toEqual({ maxSubscriptions: 7, maxMsgs: 500, maxBytes: 1024 * 1024, maxAgeMs: 7_200_000, maxInactivityMs: 600_000 });
    expect(limits.perChannel).toEqual([
      { channel: 'orders.*', limits: { maxSubscriptions: 0, maxMsgs: -1, maxBytes: 0, maxAgeMs: 3_600_000, maxInactivityMs: 0 } },
      { channel: 'audit.>', limits: { maxSubscriptions: 3, maxMsgs: 0, maxBytes: 2048, maxAgeMs: 0, maxInactivityMs: 30_000 } },
      { channel: 'plain', limits: { maxSubscriptions: 0, maxMsgs: 5, maxBytes: 0, maxAgeMs: 0, maxInactivityMs: 0 } },
    ]);
  });

  it('refuses bad channel names, unknown limit keys and too many literal channels', () => {
    const bad = file('bad-channel.conf', 'store_limits {\n  channels {\n    "a..b": { max_msgs: 1 }\n  }\n}\n');
    expect(messageOf(() => loadOptions(['-sc', bad], {}))).toMatch(/bad-channel\.conf:3:5: invalid channel name "a\.\.b"/);
    const unknown = file('bad-limit.conf', 'store_limits { channels { a: { max_msg: 1 } } }\n');
    expect(messageOf(() => loadOptions(['-sc', unknown], {})))
      .toMatch(/bad-limit\.conf:1:32: unknown key "max_msg" in the limits of channel "a"/);
    const many = file('many.conf', 'store_limits { max_channels: 1, channels { a: { mm: 1 }, b: { mm: 1 }, "c.*": { mm: 1 } } }\n');
    expect(messageOf(() => loadOptions(['-sc', many], {}))).toBe('store_limits lists 2 channels, more than max_channels (1)');
    expect(messageOf(() => loadOptions(['-mm', '-1'], {}))).toBe('max_msgs cannot be negative (0 means unlimited)');
  });
});

describe('errors name the key, file and line', () => {
  it('for unknown keys at every level', () => {
    const cases: readonly (readonly [string, string, RegExp])[] = [
      ['-c', 'prot: 4222\n', /u1\.conf:1:1: unknown key "prot" in the configuration file/],
      ['-sc', 'streaming {\n  cluster_idd: x\n}\n', /u2\.conf:2:3: unknown key "cluster_idd" in the streaming configuration/],
      ['-sc', 'streaming { file { compactt: true } }\n', /u3\.conf:1:20: unknown key "compactt" in the file block/],
      ['-c', 'authorization {\n\n    tokn: x }\n', /u4\.conf:3:5: unknown key "tokn" in the authorization block/],
      ['-sc', 'streaming { store_limits { max_chans: 1 } }\n', /u5\.conf:1:28: unknown key "max_chans" in the store_limits block/],
    ];
    cases.forEach(([flag, text, pattern], index) => {
      expect(messageOf(() => loadOptions([flag, file(`u${index + 1}.conf`, text)], {}))).toMatch(pattern);
    });
  });

  it('for values of the wrong type and blocks that are not blocks', () => {
    expect(messageOf(() => loadOptions(['-sc', file('t1.conf', 'streaming { hb_interval: true }')], {})))
      .toMatch(/t1\.conf:1:13: "hb_interval": expected a duration string \("90s"\), got boolean true/);
    expect(messageOf(() => loadOptions(['-c', file('t2.conf', 'port: "4222"')], {})))
      .toMatch(/t2\.conf:1:1: "port": expected an integer, got string "4222"/);
    expect(messageOf(() => loadOptions(['-sc', file('t3.conf', 'streaming { file: 3 }')], {})))
      .toMatch(/t3\.conf:1:13: "file" must be a block/);
    expect(messageOf(() => loadOptions(['-sc', file('t4.conf', 'streaming: 3')], {})))
      .toMatch(/t4\.conf:1:1: "streaming" must be a block/);
    expect(messageOf(() => loadOptions(['-c', file('t5.conf', 'listen: "host:99999"')], {})))
      .toMatch(/t5\.conf:1:1: "listen": port 99999 is out of range/);
  });

  it('reads a bare duration such as 1m as a duration, not as the size it lexes to', () => {
    const conf = file('bare.conf', 'ping_interval: 1m\nwrite_deadline: 5\nstreaming { hbi: 2h, store_limits { max_age: 1m, channels { a: { max_age: 1h } } } }\n');
    const options = loadOptions(['-c', conf], {});
    expect([options.nats.pingIntervalMs, options.nats.writeDeadlineMs, options.streaming.heartbeatIntervalMs]).toEqual([60_000, 5_000, 7_200_000]);
    expect(options.streaming.limits.global.maxAgeMs).toBe(60_000);
    expect(options.streaming.limits.perChannel[0]?.limits.maxAgeMs).toBe(3_600_000);
    expect(messageOf(() => loadOptions(['-c', file('bare2.conf', 'ping_interval: 1k\n')], {})))
      .toMatch(/bare2\.conf:1:1: "ping_interval": invalid duration "1k"/);
  });

  it('keeps a bcrypt-hashed password as it is written, for the server to compare with', () => {
    const hash = '$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG';
    const conf = file('bcrypt.conf', `authorization { user: a, password: ${hash} }\n`);
    expect(loadOptions(['-c', conf], {}).nats).toMatchObject({ user: 'a', password: hash });
  });

  it('for a configuration file that cannot be read', () => {
    expect(messageOf(() => loadOptions(['-c', join(scratch, 'absent.conf')], {}))).toMatch(/cannot read configuration file ".*absent\.conf"/);
  });

  it('refuses a not-yet setting even when its value is of another form', () => {
    expect(messageOf(() => loadOptions(['-c', file('ny1.conf', 'ocsp: "always"')], {})))
      .toMatch(/ny1\.conf:1:1: tstan does not support "ocsp" yet: OCSP stapling is not built/);
    expect(messageOf(() => loadOptions(['--sql_max_open_conns=many'], {})))
      .toBe('tstan does not support -sql_max_open_conns yet: the SQL store is not built yet; use -st FILE or -st MEMORY');
  });

  it('accepts a not-yet setting written at its default', () => {
    const conf = file('defaults.conf', 'streaming { secure: false, encrypt: false, partitioning: false, sql { no_caching: false } }\njetstream: false\n');
    const options = loadOptions(['-c', conf], {});
    expect({ ...options, nats: { ...options.nats, configFile: '' } }).toEqual(loadOptions([], {}));
  });
});

describe('whole-configuration checks', () => {
  const dir = ['-dir', scratch];
  const cases: readonly (readonly [readonly string[], string])[] = [
    [['-st', 'FILE'], 'the FILE store needs a root directory: set -dir (or dir in the streaming configuration)'],
    [['-st', 'sql'], 'tstan does not support the SQL store yet: use -st FILE or -st MEMORY'],
    [['--clustered'], 'stan: clustering mode not supported with MEMORY store type'],
    [['--clustered', '-st', 'file', ...dir, '--cluster_peers', 'a,b'], '--cluster_peers lists node IDs, so this node needs its own --cluster_node_id'],
    [['--cluster_node_id', 'a.b'], 'invalid cluster node ID "a.b": use up to 64 letters, digits, "-" and "_"'],
    [['--cluster_node_id', 'x'.repeat(65)], `invalid cluster node ID "${'x'.repeat(65)}": use up to 64 letters, digits, "-" and "_"`],
    [['--cluster_node_id', 'a', '--cluster_peers', 'a,state'], 'invalid peer node ID "state": "join", "bootstrap", "state", "serving", "handover", "node", "inbox" name the cluster\'s own subjects'],
    [['-cid', 'a b'], 'invalid cluster ID "a b": it becomes part of subjects, so no spaces, wildcards or empty tokens'],
    [['-cid', 'x.*'], 'invalid cluster ID "x.*": it becomes part of subjects, so no spaces, wildcards or empty tokens'],
    [['-p', '70000'], '-p (port) 70000 is out of range (-1 to 65535)'],
    [['-hbi', '0s'], '-hbi (hb_interval) must be greater than 0'],
    [['-hbf', '0'], '-hbf (hb_fail_count) must be at least 1'],
    [['--auth', 't', '--user', 'u'], '--auth (token) cannot be combined with --user/--pass'],
    [['--routes', 'nats://hostonly'], 'invalid route "nats://hostonly": it needs a host and a port'],
    [['-ns', 'nats://a:4222,nats://:4222'], 'invalid -ns (nats_server) "nats://:4222": it needs a host'],
    [['--file_compact_frag', '101'], '--file_compact_frag is a percentage (0 to 100)'],
    [['--file_parallel_recovery', '0'], '--file_parallel_recovery must be at least 1'],
  ];
  it.each(cases.map(([argv, message]) => [argv.join(' '), argv, message] as const))('%s', (_name, argv, message) => {
    expect(messageOf(() => loadOptions(argv, {}))).toBe(message);
  });

  it('accepts -ns URLs without a port, as NATS clients default to 4222', () => {
    expect(loadOptions(['-ns', 'nats://demo.nats.io,tls://h:4443'], {}).streaming.natsServerUrl).toBe('nats://demo.nats.io,tls://h:4443');
  });

  it('accepts --cluster_bootstrap with --cluster_peers (the peers take precedence when the cluster starts)', () => {
    const options = loadOptions(['--clustered', '-st', 'file', ...dir, '--cluster_node_id', 'a', '--cluster_peers', 'b,c', '--cluster_bootstrap'], {});
    expect(options.clustering).toMatchObject({ bootstrap: true, peers: ['b', 'c'] });
  });

  it('removes the node itself from its peers and derives the log level', () => {
    const options = loadOptions(['--clustered', '-st', 'file', ...dir, '--cluster_node_id', 'a', '--cluster_peers', 'a,b,c,b', '-SV'], {});
    expect(options.clustering.peers).toEqual(['b', 'c']);
    expect(options.logging.level).toBe('trace');
  });

  it('starts from a fresh default draft each time', () => {
    expect(defaultOptionsDraft('1').streaming.limits.perChannel).not.toBe(defaultOptionsDraft('1').streaming.limits.perChannel);
  });
});
