// Proves that a log that cannot be written never stops the server from serving or from stopping,
// on spawned tstan processes: a stdout pipe whose reader has gone (EPIPE), and a log file on a full
// device (`-l /dev/full`, ENOSPC), said once on stderr. Both used to hang the process on SIGTERM:
// the log's synchronous flush retried the failing write forever.
import { describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { connect, StringCodec } from 'nats';
import { startTstan, type TstanProcess } from '../support/tstan-process.js';
import { until } from '../support/embedded.js';

const sc = StringCodec();

/** SIGTERM, then the exit code; SIGKILL and null if the process is still there after `waitMs`. */
async function stopWithin(node: TstanProcess, waitMs: number): Promise<number | null> {
  const exited = once(node.child, 'exit').then(([code]) => code as number | null);
  node.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), waitMs)));
  const outcome = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (outcome !== 'late') return outcome;
  node.child.kill('SIGKILL');
  await exited;
  return null;
}

/** A NATS round trip through the node: it still serves. */
async function roundTrip(port: number): Promise<string> {
  const nc = await connect({ port });
  try {
    const sub = nc.subscribe('log.failures.echo', { max: 1 });
    const got = (async () => {
      for await (const msg of sub) return sc.decode(msg.data);
      return '';
    })();
    await nc.flush();
    nc.publish('log.failures.echo', sc.encode('still serving'));
    return await got;
  } finally {
    await nc.close();
  }
}

describe('a log that cannot be written', () => {
  it('stdout whose reader has gone: the server goes on serving and stops on SIGTERM, exit 0', async () => {
    const node = await startTstan(['-cid', 'log-epipe'], { monitorArgs: [] });
    try {
      await until(() => node.output().includes('streaming server ready'));
      node.child.stdout!.destroy();
      expect(await roundTrip(node.port)).toBe('still serving');
      expect(await stopWithin(node, 10_000)).toBe(0);
    } finally {
      if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
    }
  }, 30_000);

  it('a log file on a full device: said once on stderr, the server goes on serving and stops on SIGTERM, exit 0', async () => {
    const node = await startTstan(['-cid', 'log-full', '-l', '/dev/full'], { monitorArgs: [] });
    try {
      await until(() => node.output().includes('logging stops'));
      expect(await roundTrip(node.port)).toBe('still serving');
      expect(await stopWithin(node, 10_000)).toBe(0);
      const lines = node.output().split('\n').filter((line) => line.includes('writing the log failed'));
      expect(lines).toEqual(['tstan: writing the log failed, logging stops: ENOSPC: no space left on device, write']);
    } finally {
      if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
    }
  }, 30_000);
});
