// Proves the chaos command lines (npm run jepsen, npm run soak) answer --help with their usage and
// a mistake (an unknown flag, an unknown suite, a bad number) with one line and the usage, exit 2,
// before starting anything: a typo must never run the wrong suite, or nothing, and pass.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { repoRoot } from '../support/tstan-process.js';
import { runNode } from '../support/run-command.js';

const cli = (script: string, args: string[]) => runNode(['--import', 'tsx', join(repoRoot, 'test', 'jepsen-like', script), ...args], 30_000);

describe('chaos command lines', () => {
  it('print their usage on --help', async () => {
    for (const [script, command] of [['cli.ts', 'npm run jepsen'], ['soak-cli.ts', 'npm run soak']] as const) {
      const { code, stdout } = await cli(script, ['--help']);
      expect(code, script).toBe(0);
      expect(stdout.startsWith(`${command} -- [`), script).toBe(true);
    }
  }, 60_000);

  it('and the Raft simulator (npm run sim) answers --help with its usage, exit 0', async () => {
    const { code, stdout } = await runNode(['--import', 'tsx', join(repoRoot, 'test', 'raft', 'sim', 'cli.ts'), '--help'], 30_000);
    expect(code).toBe(0);
    expect(stdout.startsWith('usage: sim [--seed N]')).toBe(true);
  }, 60_000);

  it('refuse a mistake in one line with the usage, exit 2, no stack', async () => {
    const cases: Array<[string, string[], string]> = [
      ['cli.ts', ['--sceanrio', 'kill'], "Unknown option '--sceanrio'"],
      ['cli.ts', ['--suite', 'clustr'], '--suite must be one of all, standalone, cluster, broken, got clustr'],
      ['cli.ts', ['--scenario', 'no-such-scenario'], 'unknown scenario no-such-scenario'],
      ['soak-cli.ts', ['--minutes', 'ten'], '--minutes must be a positive number, got ten'],
      ['soak-cli.ts', ['--change', 'reboot'], '--change must be pause or handover, got reboot'],
    ];
    for (const [script, args, message] of cases) {
      const { code, stdout, stderr } = await cli(script, args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr.split('\n')[0], args.join(' ')).toContain(message);
      expect(stderr, args.join(' ')).toContain(' -- [');
      expect(stderr, args.join(' ')).not.toMatch(/^\s+at /m);
      expect(stdout, args.join(' ')).toBe('');
    }
  }, 120_000);
});
