// Keeps the README true: every flag in its flag table is one the option table knows, and the
// quick-start commands it shows exist as npm scripts.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { optionIndex } from '../../src/config/option-table.js';
import { readmeTableBegin, readmeTableEnd, renderOptionsSummary } from '../../src/config/docs.js';
import { repoRoot } from '../support/tstan-process.js';

const readmePath = join(repoRoot, 'README.md');
let readme = readFileSync(readmePath, 'utf8');

describe('README', () => {
  it('lists every option with its status, as the option table has it', () => {
    const start = readme.indexOf(readmeTableBegin);
    const end = readme.indexOf(readmeTableEnd) + readmeTableEnd.length;
    expect(start).toBeGreaterThan(0);
    const rendered = renderOptionsSummary();
    // After changing the option table: TSTAN_WRITE_DOCS=1 npx vitest run test/cli/readme.test.ts
    if (process.env['TSTAN_WRITE_DOCS'] === '1') {
      readme = readme.slice(0, start) + rendered + readme.slice(end);
      writeFileSync(readmePath, readme);
    }
    expect(readme.slice(start, readme.indexOf(readmeTableEnd) + readmeTableEnd.length)).toBe(rendered);
  });

  it('names only flags that tstan accepts in its flag table', () => {
    const section = readme.slice(readme.indexOf('## Flags'), readme.indexOf('## Monitoring'));
    const rows = section.split('\n').filter((line) => line.startsWith('| `'));
    const flags = [...rows.map((row) => row.split('|')[1]!).join(' ').matchAll(/`(-{1,2}[A-Za-z_]+)`/g)].map((m) => m[1]!.replace(/^-+/, ''));
    expect(flags.length).toBeGreaterThan(30);
    const unknown = flags.filter((flag) => !optionIndex.byFlag.has(flag));
    expect(unknown).toEqual([]);
  });

  it('shows commands that exist', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };
    for (const script of ['start', 'test', 'bench', 'sim', 'build']) {
      expect(readme).toContain(`npm ${script === 'start' || script === 'test' ? '' : 'run '}${script}`);
      expect(pkg.scripts[script]).toBeDefined();
    }
    // The bundled entry (scripts/bundle.mjs): it starts in a fraction of the time of dist/src/.
    expect(pkg.bin['tstan']).toBe('dist/bin/tstan.js');
    expect(pkg.scripts['start']).toContain('dist/bin/tstan.js');
  });
});
