// Proves our NATS conf parser reads every construct of the syntax (separators, comments, blocks,
// arrays, includes, variables, literals) and reports mistakes with file, line and column.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfFile, parseConfText } from '../../src/config/conf-parser.js';
import type { ConfMap, ConfValue } from '../../src/config/conf-tree.js';
import { ConfigError } from '../../src/util/errors.js';

const scratch = mkdtempSync(join(tmpdir(), 'tstan-conf-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The parsed tree as plain JSON values, positions dropped. */
function plain(value: ConfValue): unknown {
  switch (value.type) {
    case 'array':
      return value.items.map(plain);
    case 'map':
      return plainMap(value.entries);
    default:
      return value.value;
  }
}

function plainMap(map: ConfMap): Record<string, unknown> {
  return Object.fromEntries([...map.values()].map((entry) => [entry.key, plain(entry.value)]));
}

function parse(text: string, env: NodeJS.ProcessEnv = {}): Record<string, unknown> {
  return plainMap(parseConfText(text, 'test.conf', { env }));
}

function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('NATS conf syntax', () => {
  it('accepts the three separators', () => {
    expect(parse('a: 1\nb = 2\nc 3\nd:4\ne=5')).toEqual({ a: 1, b: 2, c: 3, d: 4, e: 5 });
  });

  it('skips # and // comments but keeps // inside URLs', () => {
    expect(parse('# top\nport: 4222 # trailing\n// whole line\nurl: nats://h:4222 // after\nx: "a#b//c"'))
      .toEqual({ port: 4222, url: 'nats://h:4222', x: 'a#b//c' });
  });

  it('reads nested maps and arrays, with commas or new lines between items', () => {
    const text = `cluster {
      listen: 0.0.0.0:6222
      routes: [
        nats://a:6222, "nats://b:6222"
        nats://c:6222 # third
      ]
      authorization { user: ruser, password: "p w" }
    }
    empty {}
    list: []`;
    expect(parse(text)).toEqual({
      cluster: {
        listen: '0.0.0.0:6222',
        routes: ['nats://a:6222', 'nats://b:6222', 'nats://c:6222'],
        authorization: { user: 'ruser', password: 'p w' },
      },
      empty: {},
      list: [],
    });
  });

  it('reads integers with size suffixes, floats, booleans and strings', () => {
    expect(parse(`a: 10\nb: -3\nc: 1K\nd: 1KB\ne: 10MB\nf: 1gb\ng: 2.5\nh: yes\ni: off\nj: TRUE\nk: 2s\nl: "10"\nm: 'raw\\n'\nn: "tab\\tq\\"\\u00e9"\no: 127.0.0.1`))
      .toEqual({
        a: 10, b: -3, c: 1000, d: 1024, e: 10 * 1024 * 1024, f: 1024 ** 3, g: 2.5, h: true, i: false, j: true,
        k: '2s', l: '10', m: 'raw\\n', n: 'tab\tq"é', o: '127.0.0.1',
      });
  });

  it('takes quoted keys, including keys with dots and wildcards', () => {
    expect(parse('"foo.*": { max_msgs: 1 }\n\'bar.>\' = 2')).toEqual({ 'foo.*': { max_msgs: 1 }, 'bar.>': 2 });
  });

  it('lets a later key override an earlier one', () => {
    expect(parse('port: 1\nport: 2')).toEqual({ port: 2 });
  });

  it('resolves $VAR from the enclosing blocks first, then from the environment', () => {
    const text = 'TOKEN: outer\nauth { TOKEN: inner, token: $TOKEN }\nother: $TOKEN\nfromEnv: $PORT\nname: $NAME';
    expect(parse(text, { PORT: '4222', NAME: 'node a' })).toEqual({
      TOKEN: 'outer', auth: { TOKEN: 'inner', token: 'inner' }, other: 'outer', fromEnv: 4222, name: 'node a',
    });
  });

  it('keeps a bare bcrypt hash as a string, as nats-server does', () => {
    expect(parse('password: $2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG')).toEqual({
      password: '$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG',
    });
  });

  it('remembers the written form of a suffixed integer', () => {
    const value = parseConfText('a: 1m\nb: 5', 's.conf', { env: {} });
    expect(value.get('a')?.value).toMatchObject({ type: 'int', value: 1_000_000, suffixed: '1m' });
    expect(value.get('b')?.value).not.toHaveProperty('suffixed');
  });

  it('marks the entries read as variables', () => {
    const map = parseConfText('V: 1\nx: $V', 'v.conf', { env: {} });
    expect(map.get('V')?.usedAsVariable).toBe(true);
    expect(map.get('x')?.usedAsVariable).toBe(false);
  });

  it('merges included files, relative to the including file', () => {
    const sub = join(scratch, 'sub');
    writeFileSync(join(scratch, 'main.conf'), "port: 1\ninclude 'sub/auth.conf'\nnested { include \"sub/inner.conf\" }\n");
    mkdirSync(sub, { recursive: true });
    // `include more.conf` inside sub/auth.conf is relative to sub/, where that file lives.
    writeFileSync(join(sub, 'auth.conf'), 'authorization { token: abc }\ninclude more.conf\n');
    writeFileSync(join(sub, 'more.conf'), 'debug: true\n');
    writeFileSync(join(sub, 'inner.conf'), 'x: 1\n');
    expect(plainMap(parseConfFile(join(scratch, 'main.conf'), { env: {} }))).toEqual({
      port: 1, authorization: { token: 'abc' }, debug: true, nested: { x: 1 },
    });
  });

  it('refuses include cycles and missing include files with the including position', () => {
    writeFileSync(join(scratch, 'a.conf'), 'x: 1\ninclude b.conf\n');
    writeFileSync(join(scratch, 'b.conf'), 'include a.conf\n');
    expect(errorOf(() => parseConfFile(join(scratch, 'a.conf'), { env: {} }))).toMatch(/b\.conf:1:1: include cycle/);
    writeFileSync(join(scratch, 'c.conf'), '\n  include "nowhere.conf"\n');
    expect(errorOf(() => parseConfFile(join(scratch, 'c.conf'), { env: {} })))
      .toMatch(/c\.conf:2:3: cannot read configuration file ".*nowhere\.conf"/);
  });

  it('reports errors with file, line and column', () => {
    const cases: readonly (readonly [string, RegExp])[] = [
      ['a: 1\nb: $MISSING', /^test\.conf:2:4: variable "\$MISSING" is not defined/],
      ['a {\n  b: 1\n', /^test\.conf:3:1: unexpected end of file: missing "}"/],
      ['a: [1, 2', /^test\.conf:1:4: unexpected end of file: missing "]"/],
      ['a: "open\nb: 1', /^test\.conf:1:4: unterminated string/],
      ['  key\n', /^test\.conf:1:3: key "key" has no value/],
      ['a: 1 2', /^test\.conf:1:6: unexpected "2" after a value/],
      ['a: "bad \\q"', /^test\.conf:1:10: unknown escape/],
      ['a: 99999999999999999999', /^test\.conf:1:4: integer "99999999999999999999" is out of range/],
      ['}', /^test\.conf:1:1: expected a key/],
    ];
    for (const [text, pattern] of cases) expect(errorOf(() => parseConfText(text, 'test.conf', { env: {} }))).toMatch(pattern);
  });

  it('keeps the position of every value', () => {
    const map = parseConfText('\n\n   port: 4222\nx { y: [1,\n  2] }', 'pos.conf', { env: {} });
    expect(map.get('port')?.keyPosition).toEqual({ file: 'pos.conf', line: 3, column: 4 });
    expect(map.get('port')?.value.position).toEqual({ file: 'pos.conf', line: 3, column: 10 });
    const x = map.get('x')?.value;
    const y = x?.type === 'map' ? x.entries.get('y')?.value : undefined;
    expect(y?.type === 'array' ? y.items[1]?.position : undefined).toEqual({ file: 'pos.conf', line: 5, column: 3 });
  });
});
