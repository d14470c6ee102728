// Proves docs/configuration.md and the README summary list exactly the option table (regenerate it when this fails), the
// -h and -v texts come from the table and package.json, and the reload diff splits changes into
// those applied at run time (limits, log level) and those that need a restart.

import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { docsTableBegin, docsTableEnd, readmeTableBegin, readmeTableEnd, renderOptionsMarkdown, renderOptionsSummary } from '../../src/config/docs.js';
import { loadOptions, readVersion } from '../../src/config/load.js';
import { optionTable } from '../../src/config/option-table.js';
import { describeChange, diffOptions } from '../../src/config/reload.js';
import { redactOptions } from '../../src/config/redact.js';
import { usageText, versionText } from '../../src/config/usage.js';

const scratch = mkdtempSync(join(tmpdir(), 'tstan-reload-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('docs/configuration.md', () => {
  // After changing the option table: TSTAN_WRITE_DOCS=1 npx vitest run test/config/docs-and-reload.test.ts
  it('holds the table rendered from the option table', () => {
    const docUrl = new URL('../../docs/configuration.md', import.meta.url);
    let doc = readFileSync(docUrl, 'utf8');
    const begin = doc.indexOf(docsTableBegin);
    const end = doc.indexOf(docsTableEnd);
    expect(begin).toBeGreaterThanOrEqual(0);
    if (process.env['TSTAN_WRITE_DOCS'] === '1') {
      doc = doc.slice(0, begin) + renderOptionsMarkdown() + doc.slice(end + docsTableEnd.length);
      writeFileSync(docUrl, doc);
    }
    expect(doc.slice(begin, doc.indexOf(docsTableEnd) + docsTableEnd.length), 'docs/configuration.md is stale').toBe(renderOptionsMarkdown());
  });

  // The README's compact table says which options tstan has: it drifted once (TLS and users
  // shown "not yet" after they were built). TSTAN_WRITE_DOCS=1 rewrites it too.
  it('is matched by the README\'s summary of every option', () => {
    const readmeUrl = new URL('../../README.md', import.meta.url);
    let readme = readFileSync(readmeUrl, 'utf8');
    const begin = readme.indexOf(readmeTableBegin);
    const end = readme.indexOf(readmeTableEnd);
    expect(begin).toBeGreaterThanOrEqual(0);
    if (process.env['TSTAN_WRITE_DOCS'] === '1') {
      readme = readme.slice(0, begin) + renderOptionsSummary() + readme.slice(end + readmeTableEnd.length);
      writeFileSync(readmeUrl, readme);
    }
    expect(readme.slice(begin, readme.indexOf(readmeTableEnd) + readmeTableEnd.length), 'README.md is stale').toBe(renderOptionsSummary());
  });

  it('shows an example configuration that loads', () => {
    const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const example = /```\n(# comments[\s\S]*?)```/.exec(doc)?.[1];
    expect(example).toBeDefined();
    writeFileSync(join(scratch, 'auth.conf'), 'debug: true\n');
    const path = join(scratch, 'example.conf');
    writeFileSync(path, example ?? '');
    const options = loadOptions(['-c', path], {});
    expect(options.nats).toMatchObject({ port: 4222, httpPort: 8222, authToken: 's3cret' });
    expect(options.streaming).toMatchObject({ clusterId: 'my-cluster', storeType: 'FILE', heartbeatIntervalMs: 10_000 });
    expect(options.streaming.limits.perChannel.map((item) => item.channel)).toEqual(['orders.*', 'audit']);
    expect(options.clustering).toMatchObject({ clustered: true, nodeId: 'a', peers: ['b', 'c'] });
  });

  it('has one row per option, with its status', () => {
    const rows = renderOptionsMarkdown().split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| Flags'));
    expect(rows).toHaveLength(optionTable.length);
    expect(rows.filter((line) => line.endsWith('| supported |') || line.endsWith('| supported (tstan only) |'))).toHaveLength(
      optionTable.filter((spec) => spec.status.supported && spec.refusedAtStartup === undefined).length,
    );
    expect(rows.filter((line) => line.includes('refused at start-up'))).toHaveLength(
      optionTable.filter((spec) => spec.refusedAtStartup !== undefined).length,
    );
  });
});

describe('usage and version', () => {
  it('prints the version of package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(readVersion()).toBe(pkg.version);
    expect(loadOptions(['-v'], {}).version).toBe(pkg.version);
    expect(versionText(pkg.version)).toContain(pkg.version);
  });

  it('marks not-yet options in -h and starts with the usage line', () => {
    const text = usageText();
    expect(text).toMatch(/^\nUsage: tstan \[options\]\n/);
    expect(text).toMatch(/--ft_group <string>\s+Name of the fault-tolerance group.*\[not yet supported\]/);
    expect(text).toMatch(/-cid, --cluster_id <string>\s+Cluster ID.*\(default: test-cluster\)\n/);
  });
});

describe('reload diff', () => {
  it('applies limits and log levels at run time and reports the rest as needing a restart', () => {
    const conf = join(scratch, 'reload.conf');
    writeFileSync(conf, 'port: 4222\nstreaming { store_limits { max_msgs: 10 } }\n');
    const before = loadOptions(['-c', conf], {});
    writeFileSync(conf, 'port: 5222\ndebug: true\nstreaming { hb_interval: "5s", store_limits { max_msgs: 20, channels { a: { max_age: "1h" } } } }\n');
    const after = loadOptions(['-c', conf], {});
    const diff = diffOptions(before, after);
    expect(diff.applicable.map((change) => change.path).sort()).toEqual([
      'logging.debug', 'logging.level', 'streaming.limits.global.maxMsgs', 'streaming.limits.perChannel',
    ]);
    expect(diff.applicable.find((change) => change.path === 'streaming.limits.global.maxMsgs')).toEqual({
      path: 'streaming.limits.global.maxMsgs', before: 10, after: 20,
    });
    expect(diff.needsRestart.map((change) => change.path).sort()).toEqual(['nats.port', 'streaming.heartbeatIntervalMs']);
    expect(diff.needsRestart.map(describeChange).sort()).toEqual(['nats.port: 4222 -> 5222', 'streaming.heartbeatIntervalMs: 30000 -> 5000']);
  });

  it('finds nothing to do when nothing changed', () => {
    const options = loadOptions(['-mm', '5'], {});
    expect(diffOptions(options, loadOptions(['-mm', '5'], {}))).toEqual({ applicable: [], needsRestart: [] });
  });
});

describe('redaction for the debug log of the configuration', () => {
  it('hides passwords, tokens and URL credentials and keeps the rest', () => {
    const options = loadOptions(['--user', 'u', '--pass', 'secret', '--routes', 'nats://ru:rp@h:6222,nats://h2:6222', '-ns', 'nats://a:b@x:4222,nats://y:4222'], {});
    const redacted = redactOptions(options);
    const text = JSON.stringify(redacted);
    expect(text).not.toMatch(/secret|rp@|a:b@/);
    expect(redacted.nats.user).toBe('u');
    expect(redacted.routes.routes).toEqual(['nats://[redacted]@h:6222', 'nats://h2:6222']);
    expect(redacted.streaming.natsServerUrl).toBe('nats://[redacted]@x:4222,nats://y:4222');
    expect(redactOptions(loadOptions(['--auth', 'tok'], {})).nats.authToken).toBe('[redacted]');
    expect(options.nats.password).toBe('secret');
  });

  it('hides the encryption key, whether from the option or the environment (which wins)', () => {
    const fromFlag = loadOptions(['-encrypt', '-encryption_key', 'flag-key'], {});
    expect(fromFlag.streaming).toMatchObject({ encrypt: true, encryptionKey: 'flag-key' });
    const fromEnv = loadOptions(['-encryption_key', 'flag-key'], { NATS_STREAMING_ENCRYPTION_KEY: 'env-key' });
    expect(fromEnv.streaming).toMatchObject({ encrypt: true, encryptionKey: 'env-key' });
    // The environment alone does not turn encryption on, as in the reference.
    expect(loadOptions([], { NATS_STREAMING_ENCRYPTION_KEY: 'env-key' }).streaming).toMatchObject({ encrypt: false, encryptionKey: '' });
    expect(JSON.stringify(redactOptions(fromEnv))).not.toMatch(/env-key|flag-key/);
  });

  it('hides secrets in the lines a reload logs for changed options', () => {
    const before = loadOptions(['-encrypt', '-encryption_key', 'old-key', '--user', 'u', '--pass', 'old-pass', '-ns', 'nats://a:b@x:4222'], {});
    const after = loadOptions(['-encrypt', '-encryption_key', 'new-key', '--user', 'u', '--pass', 'new-pass', '-ns', 'nats://c:d@x:4222'], {});
    const lines = diffOptions(before, after).needsRestart.map(describeChange);
    expect(lines).toContain('streaming.encryptionKey: changed (values not shown: a secret)');
    expect(lines.join('\n')).not.toMatch(/old-key|new-key|old-pass|new-pass|a:b@|c:d@/);
  });
});
