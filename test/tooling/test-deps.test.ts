// Proves the one place that decides when tests go without a system tool (scripts/test-deps.mjs,
// test/support/test-deps.ts): detection on a given PATH, the one line said when tests are skipped,
// the pretest install step where apt-get cannot be reached, and a nested vitest run on a PATH
// without nats-server that skips the oracle tests and says so once, or fails under
// TSTAN_TEST_DEPS=required as .ci/run sets it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { installCommand, missingTestTools, missingToolsLine, testTools } from '../../scripts/test-deps.mjs';
import { repoRoot } from '../support/tstan-process.js';

let bareBin: string;
let fakeBin: string;

beforeAll(() => {
  // A PATH with node and nothing else: no nats-server, no cc, no apt-get.
  bareBin = mkdtempSync(join(tmpdir(), 'tstan-bare-bin-'));
  symlinkSync(process.execPath, join(bareBin, 'node'));
  fakeBin = mkdtempSync(join(tmpdir(), 'tstan-fake-bin-'));
  writeFileSync(join(fakeBin, 'nats-server'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(fakeBin, 'nats-server'), 0o755);
});

afterAll(() => {
  rmSync(bareBin, { recursive: true, force: true });
  rmSync(fakeBin, { recursive: true, force: true });
});

async function runNode(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}

describe('system tools the tests need', () => {
  it('are found on the PATH they are given', () => {
    expect(missingTestTools(['nats-server'], { PATH: bareBin }).map((tool) => tool.name)).toEqual(['nats-server']);
    expect(missingTestTools(['nats-server'], { PATH: fakeBin })).toEqual([]);
    expect(missingTestTools(['nats-server', 'cc'], { PATH: `${bareBin}:${fakeBin}` }).map((tool) => tool.name)).toEqual(['cc']);
  });

  it('are said missing in one line that names them, the tests they serve, and the install command', () => {
    const missing = testTools.filter((tool) => tool.name === 'nats-server' || tool.name === 'cc');
    const line = missingToolsLine(missing);
    expect(line).not.toContain('\n');
    expect(line).toMatch(/^!!! tstan tests: SKIPPING the tests that need nats-server, cc \(/);
    expect(line).toContain('sudo apt-get install -y nats-server gcc libc6-dev');
    expect(installCommand(testTools)).toBe('apt-get install -y nats-server openssl libnats-dev gcc libc6-dev docker-compose tini prometheus kubernetes-client iproute2 python3 python3-cryptography chromium faketime');
  });

  it('pretest: without apt-get it installs nothing and leaves the saying to the test run; required, it fails', async () => {
    const quiet = await runNode(['scripts/test-deps.mjs', '--install'], { PATH: bareBin });
    expect(quiet).toEqual({ code: 0, output: '' });
    const required = await runNode(['scripts/test-deps.mjs', '--install'], { PATH: bareBin, TSTAN_TEST_DEPS: 'required' });
    expect(required.code).toBe(1);
    expect(required.output).toMatch(/nats-server.*missing and TSTAN_TEST_DEPS=required \((not running as root|apt-get is not available)\)/);
  });

  it('a test run without nats-server skips its tests and says so once; under TSTAN_TEST_DEPS=required it fails', async () => {
    const vitest = join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs');
    const args = [vitest, 'run', 'test/config/nats-server-oracle.test.ts', '--reporter=verbose'];
    const skipped = await runNode(args, { PATH: bareBin, NO_COLOR: '1' });
    expect(skipped.code, skipped.output).toBe(0);
    expect(skipped.output.match(/!!! tstan tests: SKIPPING/g)).toHaveLength(1);
    expect(skipped.output).toMatch(/SKIPPING the tests that need nats-server.*apt-get install -y nats-server/);
    expect(skipped.output).toMatch(/Tests\s+\d+ skipped/);
    expect(skipped.output).not.toMatch(/\d+ failed/);
    const required = await runNode(args, { PATH: bareBin, NO_COLOR: '1', TSTAN_TEST_DEPS: 'required' });
    expect(required.code).not.toBe(0);
    expect(required.output).toContain('TSTAN_TEST_DEPS=required and nats-server');
  }, 60_000);
});
