// Our parser of the NATS configuration syntax (`-c`, `-sc`): `key: value`, `key = value` and
// `key value`; `#` and `//` comments; `{}` maps and `[]` arrays; `include 'file'` relative to the
// including file; `$VAR` from an enclosing map or the environment; sizes (`1GB`), durations (kept
// as strings, read as Go durations later), quoted and bare strings, true/false/yes/no/on/off.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../util/errors.js';
import type { ConfEntry, ConfMap, ConfPosition, ConfValue } from './conf-tree.js';
import { sizeMultiplier } from './size.js';

export interface ConfParseContext {
  readonly env: NodeJS.ProcessEnv;
  /** Reads an included file; tests replace it. */
  readonly readText?: (path: string) => string;
}

const includeDepthMax = 10;
/** Blocks and arrays nest at most this deep: deeper input is refused rather than overflow the stack. */
const nestingDepthMax = 64;
const bareStop = new Set([' ', '\t', '\r', '\n', ',', ';', '}', ']']);
const keyStop = new Set([' ', '\t', '\r', '\n', '=', ':', '{', '}', '[', ']', ',', ';', '#', '"', "'"]);
const boolWords: Readonly<Record<string, boolean>> = Object.freeze({
  true: true, yes: true, on: true, false: false, no: false, off: false,
});

/** Parses a configuration file into its top-level map. */
export function parseConfFile(path: string, context: ConfParseContext): ConfMap {
  const absolute = resolve(path);
  return parseConfFileAt(absolute, context, [], undefined);
}

/** Parses configuration text; `file` names it in errors and anchors relative includes. */
export function parseConfText(text: string, file: string, context: ConfParseContext): ConfMap {
  return new ConfParser(text, file, context, []).parseDocument([]);
}

function parseConfFileAt(
  path: string,
  context: ConfParseContext,
  includeStack: readonly string[],
  from: ConfPosition | undefined,
): ConfMap {
  const where = from === undefined ? '' : `${from.file}:${from.line}:${from.column}: `;
  if (includeStack.includes(path)) {
    throw new ConfigError(`${where}include cycle: ${[...includeStack, path].join(' -> ')}`);
  }
  if (includeStack.length >= includeDepthMax) {
    throw new ConfigError(`${where}includes nested deeper than ${includeDepthMax} files`);
  }
  let text: string;
  try {
    text = (context.readText ?? ((p: string) => readFileSync(p, 'utf8')))(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`${where}cannot read configuration file "${path}": ${reason}`, { cause: error });
  }
  return new ConfParser(text, path, context, [...includeStack, path]).parseDocument([]);
}

class ConfParser {
  private offset = 0;
  private line = 1;
  private column = 1;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly context: ConfParseContext,
    private readonly includeStack: readonly string[],
  ) {}

  parseDocument(scopes: ConfMap[]): ConfMap {
    const map: ConfMap = new Map();
    this.parseMapBody(map, [...scopes, map], undefined);
    return map;
  }

  private position(): ConfPosition {
    return { file: this.file, line: this.line, column: this.column };
  }

  private fail(message: string, position: ConfPosition = this.position()): never {
    throw new ConfigError(`${position.file}:${position.line}:${position.column}: ${message}`);
  }

  private peek(ahead = 0): string {
    return this.text.charAt(this.offset + ahead);
  }

  private atEnd(): boolean {
    return this.offset >= this.text.length;
  }

  private advance(): string {
    const char = this.text.charAt(this.offset);
    this.offset += 1;
    if (char === '\n') {
      this.line += 1;
      this.column = 1;
    } else {
      this.column += 1;
    }
    return char;
  }

  private atComment(): boolean {
    return this.peek() === '#' || (this.peek() === '/' && this.peek(1) === '/');
  }

  private skipComment(): void {
    while (!this.atEnd() && this.peek() !== '\n') this.advance();
  }

  /** Skips blanks, newlines, comments and the optional `,`/`;` separators between items. */
  private skipSeparators(): void {
    for (;;) {
      const char = this.peek();
      if (char === ' ' || char === '\t' || char === '\r' || char === '\n' || char === ',' || char === ';') {
        this.advance();
      } else if (this.atComment()) {
        this.skipComment();
      } else {
        return;
      }
    }
  }

  private skipBlanks(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.advance();
  }

  private parseMapBody(map: ConfMap, scopes: ConfMap[], close: '}' | undefined): void {
    for (;;) {
      this.skipSeparators();
      if (this.atEnd()) {
        if (close !== undefined) this.fail(`unexpected end of file: missing "${close}"`);
        return;
      }
      if (this.peek() === close) {
        this.advance();
        return;
      }
      const keyPosition = this.position();
      const { key, quoted } = this.parseKey();
      this.skipBlanks();
      if (!quoted && key === 'include' && this.peek() !== '=' && this.peek() !== ':') {
        this.parseInclude(map, keyPosition, close);
        continue;
      }
      if (this.peek() === '=' || this.peek() === ':') {
        this.advance();
        this.skipBlanks();
      }
      if (this.atEnd() || this.peek() === '\n' || this.peek() === '\r' || this.atComment() || this.peek() === close) {
        this.fail(`key "${key}" has no value`, keyPosition);
      }
      const value = this.parseValue(scopes);
      // Delete first so the map's order is the order of last writing: later lines win on apply.
      map.delete(key);
      map.set(key, { key, keyPosition, value, usedAsVariable: false });
      this.expectValueEnd(close);
    }
  }

  private expectValueEnd(close: '}' | ']' | undefined): void {
    this.skipBlanks();
    const char = this.peek();
    if (this.atEnd() || char === '\n' || char === '\r' || char === ',' || char === ';' || char === close) return;
    if (this.atComment()) return;
    this.fail(`unexpected "${char}" after a value: put one key and value per line`);
  }

  private parseKey(): { key: string; quoted: boolean } {
    const quote = this.peek();
    if (quote === '"' || quote === "'") {
      return { key: this.parseQuoted(), quoted: true };
    }
    const start = this.offset;
    while (!this.atEnd() && !keyStop.has(this.peek()) && !(this.peek() === '/' && this.peek(1) === '/')) {
      this.advance();
    }
    if (this.offset === start) this.fail(`expected a key, found "${this.peek()}"`);
    return { key: this.text.slice(start, this.offset), quoted: false };
  }

  private parseInclude(map: ConfMap, position: ConfPosition, close: '}' | undefined): void {
    const quote = this.peek();
    let target: string;
    if (quote === '"' || quote === "'") {
      target = this.parseQuoted();
    } else {
      target = this.readBare();
    }
    if (target === '') this.fail('include needs a file name', position);
    const path = resolve(dirname(this.file), target);
    const included = parseConfFileAt(path, this.context, this.includeStack, position);
    for (const [key, entry] of included) {
      map.delete(key);
      map.set(key, entry);
    }
    this.expectValueEnd(close);
  }

  private parseValue(scopes: ConfMap[]): ConfValue {
    const position = this.position();
    const char = this.peek();
    if (char === '{' || char === '[') {
      if (this.depth >= nestingDepthMax) this.fail(`blocks and arrays nest deeper than ${nestingDepthMax} levels`);
      this.depth += 1;
      const value = char === '{' ? this.parseMap(scopes, position) : this.parseArray(scopes, position);
      this.depth -= 1;
      return value;
    }
    if (char === '"' || char === "'") return { type: 'string', value: this.parseQuoted(), position };
    if (char === '$') return this.parseVariable(scopes, position);
    return classifyBare(this.readBare(), position, (message) => this.fail(message, position));
  }

  private parseMap(scopes: ConfMap[], position: ConfPosition): ConfValue {
    this.advance();
    const entries: ConfMap = new Map();
    this.parseMapBody(entries, [...scopes, entries], '}');
    return { type: 'map', entries, position };
  }

  private parseArray(scopes: ConfMap[], position: ConfPosition): ConfValue {
    this.advance();
    const items: ConfValue[] = [];
    for (;;) {
      this.skipSeparators();
      if (this.atEnd()) this.fail('unexpected end of file: missing "]"', position);
      if (this.peek() === ']') {
        this.advance();
        return { type: 'array', items, position };
      }
      items.push(this.parseValue(scopes));
      this.expectValueEnd(']');
    }
  }

  private parseVariable(scopes: ConfMap[], position: ConfPosition): ConfValue {
    this.advance();
    const name = this.readBare();
    // As nats-server does: `$2a$...` is a bcrypt hash written bare, not a variable.
    if (name.startsWith('2a$')) return { type: 'string', value: `$${name}`, position };
    if (!/^[A-Za-z0-9_]+$/.test(name)) this.fail(`bad variable name "$${name}"`, position);
    for (let index = scopes.length - 1; index >= 0; index -= 1) {
      const entry: ConfEntry | undefined = scopes[index]?.get(name);
      if (entry !== undefined) {
        entry.usedAsVariable = true;
        return { ...entry.value, position } as ConfValue;
      }
    }
    const fromEnv = this.context.env[name];
    if (fromEnv === undefined) {
      this.fail(`variable "$${name}" is not defined in the file nor in the environment`, position);
    }
    return valueFromEnvironment(fromEnv, position);
  }

  private readBare(): string {
    const start = this.offset;
    while (!this.atEnd() && !bareStop.has(this.peek())) this.advance();
    return this.text.slice(start, this.offset);
  }

  private parseQuoted(): string {
    const start = this.position();
    const quote = this.advance();
    let value = '';
    for (;;) {
      if (this.atEnd() || this.peek() === '\n') this.fail('unterminated string', start);
      const char = this.advance();
      if (char === quote) return value;
      if (char === '\\' && quote === '"') {
        value += this.parseEscape();
      } else {
        value += char;
      }
    }
  }

  private parseEscape(): string {
    const position = this.position();
    const char = this.advance();
    const simple: Readonly<Record<string, string>> = {
      n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '"': '"', '\\': '\\', '/': '/',
    };
    const mapped = simple[char];
    if (mapped !== undefined) return mapped;
    if (char === 'u' || char === 'U') {
      const length = char === 'u' ? 4 : 8;
      const hex = this.text.slice(this.offset, this.offset + length);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== length) this.fail('bad unicode escape', position);
      for (let index = 0; index < length; index += 1) this.advance();
      return String.fromCodePoint(Number.parseInt(hex, 16));
    }
    return this.fail(`unknown escape "\\${char}"`, position);
  }
}

/** Types a bare token: integer (with size suffix), float, boolean, or else a string. */
function classifyBare(token: string, position: ConfPosition, fail: (message: string) => never): ConfValue {
  if (token === '') fail('expected a value');
  const bool = boolWords[token.toLowerCase()];
  if (bool !== undefined) return { type: 'bool', value: bool, position };
  const integer = /^(-?\d+)([a-zA-Z]*)$/.exec(token);
  if (integer !== null) {
    const multiplier = sizeMultiplier(integer[2] ?? '');
    if (multiplier !== undefined) {
      const value = Number(integer[1]) * multiplier;
      if (!Number.isSafeInteger(value)) fail(`integer "${token}" is out of range`);
      return (integer[2] ?? '') === '' ? { type: 'int', value, position } : { type: 'int', value, position, suffixed: token };
    }
  }
  if (/^-?\d+\.\d+$/.test(token)) return { type: 'float', value: Number(token), position };
  return { type: 'string', value: token, position };
}

function valueFromEnvironment(text: string, position: ConfPosition): ConfValue {
  try {
    const parsed = parseConfText(`value = ${text}`, position.file, { env: {} }).get('value');
    if (parsed !== undefined && parsed.value.type !== 'map') return { ...parsed.value, position } as ConfValue;
  } catch {
    // Not a value the syntax reads on its own: take it as a plain string.
  }
  return { type: 'string', value: text, position };
}
