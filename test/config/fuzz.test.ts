// Proves bad input of any kind gives a ConfigError and nothing else: fast-check feeds random and
// mutated conf text to the parser and random words to the command line loader.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfText } from '../../src/config/conf-parser.js';
import { loadOptions } from '../../src/config/load.js';
import { optionTable } from '../../src/config/option-table.js';
import { ConfigError } from '../../src/util/errors.js';

function onlyConfigErrors(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    expect(error.message).not.toBe('');
  }
}

const sample = `port: 4222
# comment
authorization { user: "u", password: 'p' }
cluster { listen: 0.0.0.0:6222, routes: [nats://a:1, "nats://b:2"] }
streaming {
  id: x, store: file, dir: "/d"
  store_limits { max_bytes: 1GB, channels { "a.*": { max_age: "1h" } } }
  V: $HOME
}
`;
const pieces = ['{', '}', '[', ']', '"', "'", ':', '=', ',', ';', '#', '//', '$', '\n', ' ', 'include x', '\\', 'a', '1', '1KB', 'true'];

describe('robustness', () => {
  it('parses random text or refuses it with a ConfigError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        onlyConfigErrors(() => parseConfText(text, 'fuzz.conf', { env: { HOME: '/h' }, readText: () => 'x: 1' }));
      }),
      { numRuns: 2000 },
    );
  });

  it('parses mutated configuration files or refuses them with a ConfigError', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(sample.length), fc.nat(3), fc.constantFrom(...pieces)), { maxLength: 8 }),
        (edits) => {
          let text = sample;
          for (const [at, remove, insert] of edits) text = text.slice(0, at) + insert + text.slice(at + remove);
          onlyConfigErrors(() => parseConfText(text, 'mutated.conf', { env: { HOME: '/h' }, readText: () => '}' }));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses nesting deep enough to overflow the stack with a ConfigError', () => {
    expect(() => parseConfText(`a: ${'['.repeat(100_000)}`, 'deep.conf', { env: {} })).toThrow(/deep\.conf:1:\d+: blocks and arrays nest deeper than 64 levels/);
    expect(() => parseConfText(`a ${'{ b '.repeat(100_000)}`, 'deep.conf', { env: {} })).toThrow(ConfigError);
    expect(() => parseConfText(`a: ${'['.repeat(60)}${']'.repeat(60)}`, 'ok.conf', { env: {} })).not.toThrow();
  });

  it('loads random command lines or refuses them with a ConfigError', () => {
    const names = optionTable.flatMap((spec) => spec.flags);
    const word = fc.oneof(
      fc.constantFrom(...names).map((name) => `-${name}`),
      fc.constantFrom(...names).map((name) => `--${name}=`),
      fc.string({ maxLength: 12 }),
      fc.constantFrom('--', '-', 'true', 'false', '0', '-1', '1KB', '90s', 'nats://h:1', 'FILE', 'file'),
    );
    fc.assert(
      fc.property(fc.array(word, { maxLength: 8 }), (argv) => {
        // -c/-sc with random words would read random paths: keep the run hermetic.
        if (argv.some((item) => /^--?(c|sc|config|stan_config)(=|$)/.test(item))) return;
        onlyConfigErrors(() => loadOptions(argv, {}));
      }),
      { numRuns: 2000 },
    );
  });
});
