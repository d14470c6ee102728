// Keeps references to the documentation true: every `docs/<page>.md §N` cited anywhere in the
// repository names a section heading that page has, and no file cites notes the repository does
// not contain (the design briefs the docs/ pages replaced).
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../support/tstan-process.js';

const roots = ['src', 'test', 'bench', 'scripts', 'docs', 'README.md', '.ci'];

function files(path: string): string[] {
  const full = join(repoRoot, path);
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full).flatMap((name) => (name === 'node_modules' ? [] : files(join(path, name))));
}

const texts = roots.flatMap(files).filter((path) => /\.(ts|mjs|mts|md|txt)$|\/run$/.test(path)).map((path) => ({ path, text: readFileSync(join(repoRoot, path), 'utf8') }));

describe('references to the documentation', () => {
  it('name sections that exist', () => {
    const headings = new Map<string, string[]>();
    const missing: string[] = [];
    let checked = 0;
    for (const { path, text } of texts) {
      for (const match of text.matchAll(/docs\/([a-z-]+)\.md §(\d+(?:\.\d+)*)/g)) {
        checked++;
        const page = match[1]!;
        if (!headings.has(page)) {
          const doc = readFileSync(join(repoRoot, 'docs', `${page}.md`), 'utf8');
          headings.set(page, doc.split('\n').filter((line) => line.startsWith('#')).map((line) => line.replace(/^#+\s*/, '')));
        }
        const number = match[2]!;
        if (!headings.get(page)!.some((heading) => heading === number || heading.startsWith(`${number}.`) || heading.startsWith(`${number} `))) {
          missing.push(`${relative(repoRoot, join(repoRoot, path))}: docs/${page}.md §${number}`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });

  it('never cite the design notes the docs/ pages replaced', () => {
    const citing = texts
      .filter(({ path }) => !path.startsWith('test/tooling/docs-references'))
      .filter(({ text }) => /\b(PROTOCOL|DESIGN|CHAOS|BENCH)\.md\b/.test(text))
      .map(({ path }) => path);
    expect(citing).toEqual([]);
  });
});
