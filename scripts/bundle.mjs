// Bundles the tstan command into dist/bin/tstan.js (`npm run build` runs it after tsc).
//
// Why: a process that loads ~150 modules one file at a time spends most of its start-up resolving
// and reading them. One file with the code needed before the client port listens, and chunks for
// what start-up imports afterwards (the streaming layer, the stores, prom-client, the `nats` client
// of -ns), gets the port open in a fraction of that time. `level` and `msgpackr` stay outside: they
// carry native add-ons, and only the Raft store uses them. So does `sodium-native` (ChaCha20 for
// encryption at rest), loaded from node_modules only when a store seals or opens a payload.
//
// `--outdir DIR` writes elsewhere (two levels below the package root, like dist/bin, so the
// bundle finds package.json and proto/ as dist/bin does); `--metafile FILE` writes esbuild's
// account of which inputs went into which output and which imports are static (test/cli/bundle).
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argValue = (name) => {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? undefined : process.argv[index + 1];
};
const outdir = resolve(argValue('outdir') ?? join(root, 'dist', 'bin'));
const metafile = argValue('metafile');

rmSync(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { tstan: 'src/cli/main.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['level', 'msgpackr', 'sodium-native'],
  chunkNames: 'chunks/[name]-[hash]',
  // Whitespace and syntax only: identifiers keep their names, so stack traces stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  legalComments: 'none',
  // CommonJS dependencies (pino) call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as __tstanCreateRequire } from 'node:module'; const require = __tstanCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  metafile: true,
});

if (metafile !== undefined) writeFileSync(metafile, JSON.stringify(result.metafile));
if (process.argv.includes('--sizes')) {
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    if (!file.endsWith('.map')) console.log(`${String(output.bytes).padStart(9)}  ${file}`);
  }
}
