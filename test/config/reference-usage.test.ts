// Holds the reference server's whole usage text (fixtures/reference-usage.txt: each option, its
// names, group and kind) against our option table, our parser and our -h text: every reference
// name is accepted with the right kind and group, and no flag exists that the reference lacks.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadOptions } from '../../src/config/load.js';
import { optionIndex, optionTable } from '../../src/config/option-table.js';
import { usageText } from '../../src/config/usage.js';
import { ConfigError } from '../../src/util/errors.js';

interface FixtureLine {
  readonly section: string;
  readonly group: string;
  readonly names: readonly string[];
  readonly kind: string;
}

function readFixture(): FixtureLine[] {
  const text = readFileSync(new URL('./fixtures/reference-usage.txt', import.meta.url), 'utf8');
  const lines: FixtureLine[] = [];
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('[')) {
      section = line.slice(1, -1);
      continue;
    }
    const [group = '', names = '', kind = ''] = line.split('|').map((part) => part.trim());
    lines.push({ section, group, names: names.split(/\s+/), kind });
  }
  return lines;
}

const fixture = readFixture();
const kindsByFixture: Readonly<Record<string, readonly string[]>> = {
  bool: ['bool'], string: ['string', 'listen'], int: ['int'], size: ['size'], duration: ['duration'], list: ['list'],
};

describe('the reference usage text against the option table', () => {
  it('lists the whole usage text', () => {
    expect(fixture.filter((line) => line.section === 'usage')).toHaveLength(88);
    expect(fixture.every((line) => ['usage', 'also-accepted'].includes(line.section))).toBe(true);
  });

  it.each(fixture.map((line) => [line.names.join(' '), line] as const))('%s', (_names, line) => {
    const specs = line.names.map((name) => optionIndex.byFlag.get(name));
    const spec = specs[0];
    expect(spec, `no option for -${line.names[0]}`).toBeDefined();
    if (spec === undefined) return;
    for (const other of specs) expect(other?.id).toBe(spec.id);
    expect(spec.group).toBe(line.group);
    expect(kindsByFixture[line.kind]).toContain(spec.kind);
    expect(spec.hidden).toBe(line.names.includes('io_batch_size') || line.names.includes('io_sleep_time'));
    for (const name of line.names) {
      // Accepted or refused as not yet: never an unknown flag.
      const argv = spec.kind === 'bool' ? [`-${name}`] : [`--${name}=${line.kind === 'int' ? '1' : line.kind === 'size' ? '1KB' : line.kind === 'duration' ? '1s' : 'x'}`];
      try {
        loadOptions(argv, {});
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as Error).message).not.toMatch(/not defined/);
      }
    }
  });

  it('has no flag the reference does not accept, except those marked as tstan\'s own', () => {
    const reference = new Set(fixture.flatMap((line) => line.names));
    const ours = optionTable.filter((spec) => !spec.tstanOnly).flatMap((spec) => spec.flags);
    expect(ours.filter((name) => !reference.has(name))).toEqual([]);
    // Each of tstan's own is deliberate: a new one is added here, by name, with a reason.
    expect(optionTable.filter((spec) => spec.tstanOnly).flatMap((spec) => spec.flags)).toEqual(['log_format']);
    expect([...reference].filter((name) => !optionIndex.byFlag.has(name))).toEqual([]);
  });

  it('shows every visible flag in -h under its group', () => {
    const text = usageText();
    for (const line of fixture.filter((item) => !item.names.includes('io_batch_size') && !item.names.includes('io_sleep_time'))) {
      const groupStart = text.indexOf(`\n${line.group}:\n`);
      expect(groupStart, line.group).toBeGreaterThanOrEqual(0);
      const groupEnd = text.indexOf('\n\n', groupStart + 1);
      const block = text.slice(groupStart, groupEnd);
      for (const name of line.names) expect(block, `-${name} in ${line.group}`).toMatch(new RegExp(`(^|[ ,])--?${name}(,| |$)`, 'm'));
    }
    expect(text).not.toMatch(/io_batch_size|io_sleep_time/);
  });
});
