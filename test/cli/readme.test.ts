// Keeps the README true: every flag in its flag table is one the option table knows, the
// quick-start commands it shows exist as npm scripts, its client snippet runs as a script against
// a spawned tstan and exits, and its architecture section (like docs/architecture.md) names every
// folder of src/.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { optionIndex } from '../../src/config/option-table.js';
import { readmeTableBegin, readmeTableEnd, renderOptionsSummary } from '../../src/config/docs.js';
import { repoRoot, startTstan } from '../support/tstan-process.js';

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

  it('shows a client snippet that publishes and then exits when run as a script', async () => {
    const snippet = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(snippet).toBeDefined();
    const node = await startTstan([]);
    const dir = mkdtempSync(join(tmpdir(), 'tstan-readme-'));
    try {
      const script = join(dir, 'snippet.cjs');
      writeFileSync(script, snippet!.replace('nats://localhost:4222', `nats://127.0.0.1:${node.port}`));
      // The snippet must end on its own once it has closed its connection; one that hangs is
      // killed at the bound, so the test fails without leaving a process behind.
      const child = spawn(process.execPath, [script], { env: { ...process.env, NODE_PATH: join(repoRoot, 'node_modules') }, stdio: ['ignore', 'pipe', 'pipe'] });
      const bound = setTimeout(() => child.kill('SIGKILL'), 20_000);
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
      clearTimeout(bound);
      expect(signal, `the snippet did not exit by itself: ${output}`).toBeNull();
      expect(code, output).toBe(0);
      expect(output.trim()).toMatch(/^[A-Za-z0-9]{22}$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      expect(await node.stop('SIGTERM')).toBe(0);
    }
  });

  it('describes src/ folder by folder, in the README and in docs/architecture.md', () => {
    const folders = (root: string): string[] =>
      readdirSync(join(repoRoot, root)).filter((name) => statSync(join(repoRoot, root, name)).isDirectory()).map((name) => `${root}/${name}/`);
    const expected = [...folders('src').filter((folder) => folder !== 'src/transport/'), ...folders('src/transport')];
    const architecture = readme.slice(readme.indexOf('## Architecture'), readme.indexOf('## Tests and benchmarks'));
    const doc = readFileSync(join(repoRoot, 'docs', 'architecture.md'), 'utf8');
    for (const folder of expected) {
      expect(architecture, folder).toContain(`\`${folder}\``);
      expect(doc, folder).toContain(`\`${folder}\``);
    }
    // And names no folder that does not exist, except src/fsm/, which is being built.
    for (const named of architecture.matchAll(/^- `(src\/[a-z/]+\/)`/gm)) {
      if (named[1] !== 'src/fsm/') expect(expected).toContain(named[1]);
    }
  });
});
