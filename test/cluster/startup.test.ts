// Proves how a clustered node behaves while it starts: waiting for founding peers that do not
// answer, it says whom it waits for; SIGTERM then stops it cleanly (exit 0), as an orchestrator's
// stop right after start expects. Real `tstan` process.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliEntry, repoRoot } from '../support/tstan-process.js';

const dir = mkdtempSync(join(tmpdir(), 'tstan-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('clustered start-up', () => {
  it('waits for silent founding peers, naming them, and stops cleanly on SIGTERM meanwhile', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', cliEntry, '-a', '127.0.0.1', '-p', '-1', '-store', 'file', '-dir', dir, '--clustered', '--cluster_node_id', 'a', '--cluster_peers', 'a,b,c', '--log_format', 'json'],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const waiting = new Promise<void>((resolve) => {
      const onData = (data: Buffer): void => {
        output += data.toString();
        if (output.includes('waiting for every peer')) resolve();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
    });
    try {
      await waiting;
      expect(output).toMatch(/"waitingFor":\["b","c"\]/);
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
      expect(output).toContain('stopped during start-up');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 30_000);
});
