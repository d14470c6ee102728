// Proves every conf key of the option table, under each of its aliases and in its block, sets the
// same option as its flag would, and that not-yet keys are refused with file, line and column.
// Table-driven: one case per option, each alias written into a real file loaded with -c or -sc.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOptions } from '../../src/config/load.js';
import type { ConfSection, OptionSpec } from '../../src/config/option-spec.js';
import { optionTable } from '../../src/config/option-table.js';
import type { Options } from '../../src/config/options.js';
import { ConfigError } from '../../src/util/errors.js';

const scratch = mkdtempSync(join(tmpdir(), 'tstan-keys-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let fileCount = 0;

const sampleById: Readonly<Record<string, string>> = {
  'streaming.cluster_id': '"c1"',
  // A second key on the same line supplies what validation needs alongside the one tested.
  'streaming.store': `file, dir: "${scratch}"`,
  'streaming.nats_server': '"nats://127.0.0.1:4333"',
  'nats.listen': '"127.0.0.1:7777"',
  'nats.http': '"127.0.0.1:8333"',
  'nats.addr': '127.0.0.1',
  'nats.max_pending': '100MB',
  'routes.listen': '"0.0.0.0:6333"',
  'routes.routes': '["nats://a:6222", "nats://b:6222"]',
  'clustering.peers': '[p1, p2], node_id: n0',
  'clustering.node_id': 'n1',
  'logging.log_format': 'text',
  'nats.https_port': '7\ntls { cert_file: "c.pem", key_file: "k.pem" }',
  'nats.https': '"127.0.0.1:8443"\ntls { cert_file: "c.pem", key_file: "k.pem" }',
  'auth.users': '[{ user: a, password: b }]',
  'auth.permissions': '{ publish: "x" }, users: [{ user: a, password: b }]',
  'auth.no_auth_user': 'a\nauthorization { users: [{ user: a, password: b }] }',
  'tls.cipher_suites': '["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]',
  'tls.curve_preferences': '["CurveP256"]',
  'routes_tls.cipher_suites': '["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]',
  'routes_tls.curve_preferences': '["CurveP256"]',
  'routes_auth.password': '"p", user: u',
  'streaming_tls.client_cert': '"c.pem", client_key: "k.pem"',
  'streaming_tls.client_key': '"k.pem", client_cert: "c.pem"',
  'streaming.encrypt': 'true, encryption_key: "k"',
  'streaming.encryption_cipher': 'CHACHA',
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
      return '"90s"';
    case 'size':
      return '10KB';
    case 'block':
      return '{ anything: 1 }';
    default:
      return '"sample"';
  }
}

/** A whole file with `line` placed in `section`; the flag (-c or -sc) that loads it. */
function fileFor(section: ConfSection, line: string): { flag: string; text: string } {
  const fileStore = `store: file\ndir: "${scratch}"\n`;
  // A tls block needs a certificate and a key (the files are read only at start-up and by -t).
  const tlsBlock = `tls {\ncert_file: "c.pem"\nkey_file: "k.pem"\n${line}\n}\n`;
  switch (section) {
    case 'nats':
      return { flag: '-c', text: `${line}\n` };
    case 'nats.authorization':
      return { flag: '-c', text: `authorization {\n${line}\n}\n` };
    case 'nats.cluster':
      return { flag: '-c', text: `cluster {\n${line}\n}\n` };
    case 'nats.tls':
      return { flag: '-c', text: tlsBlock };
    case 'nats.cluster.tls':
      return { flag: '-c', text: `cluster {\n${tlsBlock}}\n` };
    case 'nats.cluster.authorization':
      return { flag: '-c', text: `cluster {\nauthorization {\n${line}\n}\n}\n` };
    case 'streaming':
      return { flag: '-sc', text: `streaming {\n${line}\n}\n` };
    case 'streaming.store_limits':
      return { flag: '-sc', text: `streaming {\nstore_limits {\n${line}\n}\n}\n` };
    case 'streaming.file':
      return { flag: '-sc', text: `streaming {\nfile {\n${line}\n}\n}\n` };
    case 'streaming.cluster':
      return { flag: '-sc', text: `streaming {\n${fileStore}cluster {\n${line}\n}\n}\n` };
    case 'streaming.sql':
      return { flag: '-sc', text: `streaming {\nsql {\n${line}\n}\n}\n` };
    case 'streaming.tls':
      return { flag: '-sc', text: `streaming {\ntls {\n${line}\n}\n}\n` };
  }
}

function load(section: ConfSection, line: string): Options {
  const { flag, text } = fileFor(section, line);
  fileCount += 1;
  const path = join(scratch, `f${fileCount}.conf`);
  writeFileSync(path, text);
  return loadOptions([flag, path], {});
}

function without(options: Options): unknown {
  return { ...options, nats: { ...options.nats, configFile: '' }, streaming: { ...options.streaming, configFile: '' } };
}

const withKeys = optionTable.filter((spec) => spec.conf.length > 0);

describe('every supported conf key, under each alias', () => {
  const supported = withKeys.filter((spec) => spec.status.supported);
  it.each(supported.map((spec) => [spec.id, spec] as const))('%s', (_id, spec) => {
    for (const spelling of spec.conf) {
      const baseline = without(load(spelling.section, ''));
      const results = spelling.keys.flatMap((key) => [
        without(load(spelling.section, `${key}: ${sampleOf(spec)}`)),
        without(load(spelling.section, `${key.toUpperCase()} = ${sampleOf(spec)}`)),
      ]);
      for (const result of results) expect(result).toEqual(results[0]);
      expect(results[0]).not.toEqual(baseline);
    }
  });
});

describe('every not-yet conf key', () => {
  const notYet = withKeys.filter((spec) => !spec.status.supported);
  it.each(notYet.map((spec) => [spec.id, spec] as const))('%s is refused with its position', (_id, spec) => {
    for (const spelling of spec.conf) {
      for (const key of spelling.keys) {
        let caught: unknown;
        try {
          load(spelling.section, `  ${key}: ${sampleOf(spec)}`);
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(ConfigError);
        const reason = spec.status.supported ? '' : spec.status.reason;
        expect((caught as Error).message).toMatch(new RegExp(`\\.conf:\\d+:3: tstan does not support "${key}" yet: `));
        expect((caught as Error).message.endsWith(reason)).toBe(true);
      }
    }
  });
});
