// The system tools some tests need beyond npm packages, in one place: how to tell whether each is
// there, which Debian package brings it, and the one line said when tests must go without them.
//
// `node scripts/test-deps.mjs --install` is npm's `pretest`: when a tool is missing and we run as
// root with apt-get, it installs the packages, so `npm test` passes on a fresh machine. Where the
// package manager cannot be reached, the tests that need a missing tool are skipped, and
// test/support/global-setup.ts says so in one line. With TSTAN_TEST_DEPS=required (.ci/run sets
// it) a missing tool is a failure instead, never a skip.
import { accessSync, constants, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** @typedef {'nats-server' | 'openssl' | 'libnats-dev' | 'cc' | 'docker-compose' | 'tini' | 'promtool' | 'kubectl' | 'netns' | 'python-cryptography' | 'chromium' | 'faketime'} TestToolName */

/**
 * libfaketime's thread-safe build (Debian's `faketime` package brings it) under one of `libDirs`,
 * or undefined. LD_PRELOADed into a node, it steps that node's wall clock (the clock-skew scenario).
 */
export function libfaketimePath(libDirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib']) {
  return libDirs.map((dir) => join(dir, 'faketime', 'libfaketimeMT.so.1')).find((path) => existsSync(path));
}

/** Whether `command` is an executable file in one of the PATH directories of `env`. */
export function onPath(command, env = process.env) {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/**
 * Each tool: the Debian packages that bring it and what uses it. `present` looks in `env.PATH`,
 * and for the header under `includeDirs`.
 */
export const testTools = [
  {
    name: 'nats-server',
    packages: ['nats-server'],
    usedBy: 'the nats-server oracle, mixed meshes and -ns tests',
    present: (env = process.env) => onPath('nats-server', env),
  },
  {
    name: 'openssl',
    packages: ['openssl'],
    usedBy: 'the TLS tests (they make their certificates when they run)',
    present: (env = process.env) => onPath('openssl', env),
  },
  {
    name: 'libnats-dev',
    packages: ['libnats-dev'],
    usedBy: 'the C client test',
    present: (_env = process.env, includeDirs = ['/usr/include', '/usr/local/include']) =>
      includeDirs.some((dir) => existsSync(join(dir, 'nats', 'nats.h'))),
  },
  {
    name: 'cc',
    packages: ['gcc', 'libc6-dev'],
    usedBy: 'the C client test (it compiles its program)',
    present: (env = process.env) => onPath('cc', env),
  },
  {
    name: 'docker-compose',
    packages: ['docker-compose'],
    usedBy: 'the deploy tests (they validate and run deploy/docker-compose.yml without a Docker engine)',
    present: (env = process.env) => onPath('docker-compose', env),
  },
  {
    name: 'tini',
    packages: ['tini'],
    usedBy: "the deploy tests (the image's init process, run as its entrypoint says)",
    present: (env = process.env) => onPath('tini', env),
  },
  {
    name: 'promtool',
    packages: ['prometheus'],
    usedBy: 'the deploy tests (they check and unit-test the Prometheus alert rules)',
    present: (env = process.env) => onPath('promtool', env),
  },
  {
    name: 'kubectl',
    packages: ['kubernetes-client'],
    usedBy: 'the deploy tests (`kubectl kustomize deploy/k8s` builds what `kubectl apply -k` applies)',
    present: (env = process.env) => onPath('kubectl', env),
  },
  {
    // Network namespaces: `ip netns` from iproute2, and root to make them.
    name: 'netns',
    packages: ['iproute2'],
    usedBy: 'the deploy tests (each container or pod runs in a network namespace of its own; they need root)',
    present: (env = process.env) => onPath('ip', env) && typeof process.getuid === 'function' && process.getuid() === 0,
  },
  {
    name: 'python-cryptography',
    packages: ['python3', 'python3-cryptography'],
    usedBy: 'the encryption format test (payloads tstan seals must open in an independent implementation of the reference\'s format)',
    present: (env = process.env) => onPath('python3', env) && spawnSync('python3', ['-c', 'import cryptography'], { stdio: 'ignore', env }).status === 0,
  },
  {
    name: 'chromium',
    packages: ['chromium'],
    usedBy: 'the chaos report test (it renders report.html headless and takes a screenshot)',
    present: (env = process.env) => onPath('chromium', env),
  },
  {
    name: 'faketime',
    packages: ['faketime'],
    usedBy: "the clock test and the clock-skew chaos scenario (libfaketime steps one node's wall clock)",
    present: () => libfaketimePath() !== undefined,
  },
];

/** The tools of `names` (default: all) that are missing. */
export function missingTestTools(names = testTools.map((tool) => tool.name), env = process.env) {
  return testTools.filter((tool) => names.includes(tool.name) && !tool.present(env));
}

/** True when a missing tool must fail the run rather than skip tests (.ci/run). */
export function testDepsRequired(env = process.env) {
  return env.TSTAN_TEST_DEPS === 'required';
}

/** `apt-get install -y ...` for the missing tools. */
export function installCommand(missing) {
  return `apt-get install -y ${[...new Set(missing.flatMap((tool) => tool.packages))].join(' ')}`;
}

/** The one line said when tests go without `missing`: what, which tests, and how to install it. */
export function missingToolsLine(missing) {
  const names = missing.map((tool) => tool.name).join(', ');
  const uses = [...new Set(missing.map((tool) => tool.usedBy))].join('; ');
  return `!!! tstan tests: SKIPPING the tests that need ${names} (${uses}): not installed. `
    + `Install with \`sudo ${installCommand(missing)}\`, or run \`npm test\` as root where apt-get can reach its repositories.`;
}

function run(command, args) {
  const result = spawnSync(command, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return result.status === 0 ? '' : (result.stderr || result.error?.message || `exit ${result.status}`).trim().split('\n').pop();
}

/**
 * Installs what is missing when that is possible (root, apt-get on PATH); returns what is still
 * missing afterwards, and why it could not be installed.
 */
export function ensureTestTools(env = process.env) {
  const missing = missingTestTools(undefined, env);
  if (missing.length === 0) return { missing, reason: '' };
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { missing, reason: 'not running as root' };
  if (!onPath('apt-get', env)) return { missing, reason: 'apt-get is not available' };
  process.stdout.write(`npm test: installing ${missing.map((tool) => tool.name).join(', ')} for the tests that use them (${installCommand(missing)})\n`);
  // A failed update (no network) leaves the old lists, which may still serve the install.
  run('apt-get', ['update', '-qq']);
  const failure = run('apt-get', ['install', '-y', '-qq', ...new Set(missing.flatMap((tool) => tool.packages))]);
  const still = missingTestTools(undefined, env);
  return { missing: still, reason: still.length === 0 ? '' : `apt-get install failed: ${failure || 'the tools are still missing'}` };
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly && process.argv.includes('--install')) {
  const { missing, reason } = ensureTestTools();
  if (missing.length > 0 && testDepsRequired()) {
    process.stderr.write(`tstan tests: ${missing.map((tool) => tool.name).join(', ')} missing and TSTAN_TEST_DEPS=required (${reason}); install with \`${installCommand(missing)}\`\n`);
    process.exitCode = 1;
  }
  // Otherwise the test run itself says, in one line, which tests it skips.
}
