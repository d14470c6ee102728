// Proves the history's publish outcomes against a real tstan and the published client: a PubAck
// is `ok`, a server rejection is `fail`, an ack timeout is `info`, and a connection that closes
// under a pending publish is `info` although node-nats-streaming calls the handler with no error
// then. The node is frozen with SIGSTOP so that no PubAck can arrive; no timing decides a result.
import { afterEach, describe, expect, it } from 'vitest';
import { startTstan, type TstanProcess } from '../support/tstan-process.js';
import { StanSession, type PublishOutcome } from './stan-client.js';

interface Outcome {
  outcome: PublishOutcome;
  error: string | undefined;
}

function publish(session: StanSession, channel: string, value: string): Promise<Outcome> {
  return new Promise((resolve) => session.publish(channel, value, (outcome, _guid, error) => resolve({ outcome, error })));
}

describe('StanSession publish outcomes', () => {
  let node: TstanProcess | undefined;
  afterEach(async () => {
    if (node !== undefined && node.child.exitCode === null && node.child.signalCode === null) {
      node.child.kill('SIGCONT');
      await node.stop('SIGKILL');
    }
    node = undefined;
  });

  const connect = (port: number, pubAckTimeoutMs: number) =>
    StanSession.connect({ url: `nats://127.0.0.1:${port}`, clusterId: 'outcomes', clientId: `c${pubAckTimeoutMs}`, pubAckTimeoutMs, connectTimeoutMs: 2_000 });

  it('ok on a PubAck, fail on a rejection, info on an ack timeout', async () => {
    node = await startTstan(['-cid', 'outcomes']);
    const session = await connect(node.port, 300);
    expect(await publish(session, 'c0', 'v1')).toEqual({ outcome: 'ok', error: undefined });
    const rejected = await publish(session, 'bad..channel', 'v2');
    expect(rejected.outcome).toBe('fail');
    expect(rejected.error).toMatch(/stan:/);
    node.child.kill('SIGSTOP');
    const timedOut = await publish(session, 'c0', 'v3');
    expect(timedOut.outcome).toBe('info');
    node.child.kill('SIGCONT');
    session.close();
  });

  it('info, never ok, when the connection closes under a pending publish', async () => {
    node = await startTstan(['-cid', 'outcomes']);
    const session = await connect(node.port, 30_000);
    node.child.kill('SIGSTOP');
    const pending = publish(session, 'c0', 'v1');
    node.child.kill('SIGKILL');
    const result = await pending;
    expect(result.outcome).toBe('info');
    session.close();
  });
});
