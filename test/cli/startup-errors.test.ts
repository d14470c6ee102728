// Proves that a fatal start-up error of the tstan command (a port in use, for clients or for
// monitoring) is one clear line on standard error and exit status 1, with the stack trace only in
// the debug log (-D); on spawned processes, with the port held by the test itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { runTstan } from '../support/tstan-process.js';

describe('fatal start-up errors', () => {
  let holder: Server;
  let heldPort = 0;

  beforeAll(async () => {
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const address = holder.address();
    heldPort = typeof address === 'object' && address !== null ? address.port : 0;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => holder.close(() => resolve()));
  });

  it('a client port in use: one line naming the port, exit 1, no stack', async () => {
    const { code, stdout, stderr } = await runTstan(['-a', '127.0.0.1', '-p', String(heldPort)]);
    expect(code).toBe(1);
    expect(stderr).toBe(`tstan: cannot listen for clients on 127.0.0.1:${heldPort}: the port is already in use (is another server running?)\n`);
    expect(stdout).not.toMatch(/\n\s+at /);
    expect(stdout).not.toContain('"stack"');
  });

  it('a monitoring port in use: one line naming it, and what was started is stopped', async () => {
    const { code, stdout, stderr } = await runTstan(['-a', '127.0.0.1', '-p', '-1', '-m', String(heldPort)]);
    expect(code).toBe(1);
    expect(stderr).toBe(`tstan: cannot listen for monitoring on 127.0.0.1:${heldPort}: the port is already in use (is another server running?)\n`);
    expect(stdout).not.toContain('"stack"');
  });

  it('keeps the stack trace for the debug log', async () => {
    const { code, stdout, stderr } = await runTstan(['-D', '-a', '127.0.0.1', '-p', String(heldPort)]);
    expect(code).toBe(1);
    expect(stderr.split('\n').filter((line) => line !== '')).toHaveLength(1);
    const failure = stdout.split('\n').filter((line) => line.includes('start-up failed')).map((line) => JSON.parse(line) as { level: number; err: { stack: string; code: string } });
    expect(failure).toHaveLength(1);
    expect(failure[0]).toMatchObject({ level: 20, err: { code: 'LISTEN_FAILED' } });
    expect(failure[0]!.err.stack).toMatch(/\n\s+at /);
  });
});
