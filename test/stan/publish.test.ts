// Proves the publish path: publishes of one event-loop turn reach the store as one write per
// channel (never above io_batch_size), PubAcks wait until the store reports the batch durable,
// and a failed fsync leaves the batch in doubt: no PubAck (the client's timeout decides), no
// delivery, and the server stops serving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MsgProto, StoredBatch } from '../../src/store/types.js';
import { closeClient, publish, startHarness, subscribe, type Harness, type StanClient } from './harness.js';

interface Gate {
  open(): void;
  fail(error: Error): void;
}

/** Wraps a channel's storeBatch: records batch sizes, and holds `durable` until the gate opens. */
function instrument(h: Harness, channel: string): { sizes: number[]; gates: Gate[] } {
  const msgs = h.store.lookupChannel(channel)!.msgs;
  const original = msgs.storeBatch.bind(msgs);
  const record = { sizes: [] as number[], gates: [] as Gate[] };
  msgs.storeBatch = (batch: MsgProto[]): StoredBatch => {
    const stored = original(batch);
    record.sizes.push(batch.length);
    let gate!: Gate;
    const durable = new Promise<void>((resolve, reject) => {
      gate = { open: resolve, fail: reject };
    });
    record.gates.push(gate);
    return { ...stored, durable: stored.durable.then(() => durable) };
  };
  return record;
}

describe('publish batching and PubAck ordering', () => {
  let h: Harness;
  let client: StanClient;
  beforeAll(async () => {
    h = await startHarness({ server: { ioBatchSize: 64 } });
    client = await h.connect('batcher');
  });
  afterAll(async () => {
    await closeClient(client);
    await h.stop();
  });

  it('gathers a burst into few store writes and acks only once they are durable', async () => {
    await publish(client, 'burst', 'create');
    const record = instrument(h, 'burst');
    let acked = 0;
    const acks: Array<Promise<string>> = [];
    for (let i = 0; i < 500; i++) acks.push(publish(client, 'burst', `m${i}`).then((guid) => (acked++, guid)));
    // Hold every write: wait until all 500 reached the store, and check none was acknowledged.
    while (record.sizes.reduce((a, b) => a + b, 0) < 500) await new Promise((resolve) => setImmediate(resolve));
    expect(acked).toBe(0);
    expect(record.sizes.length).toBeLessThan(500);
    expect(Math.max(...record.sizes)).toBeLessThanOrEqual(64);
    for (const gate of record.gates) gate.open();
    await Promise.all(acks);
    expect(acked).toBe(500);
    expect(h.store.lookupChannel('burst')!.msgs.lastSequence()).toBe(501);
  });

  it('a failed fsync answers nothing, delivers nothing, and stops the server', async () => {
    const fatal = new Promise<Error>((resolve) => h.server.onFatal(resolve));
    await publish(client, 'failing', 'create');
    const watcher = await h.connect('watcher');
    const seen: string[] = [];
    await subscribe(watcher, 'failing', watcher.subscriptionOptions().setDeliverAllAvailable(), undefined, (msg) => seen.push(String(msg.getData())));
    const hasty = await h.connect('hasty', { ackTimeout: 300 });
    const record = instrument(h, 'failing');
    const results = [publish(hasty, 'failing', 'x'), publish(hasty, 'failing', 'y')].map((p) =>
      p.then(() => 'ok', (err: Error) => err.message),
    );
    while (record.gates.length === 0) await new Promise((resolve) => setImmediate(resolve));
    for (const gate of record.gates) gate.fail(new Error('disk on fire'));
    expect(await Promise.all(results)).toEqual(['stan: publish ack timeout', 'stan: publish ack timeout']);
    expect((await fatal).message).toBe('disk on fire');
    expect(seen).toEqual(['create']);
    hasty.nc.close();
    watcher.nc.close();
  });
});
