// Proves the in-memory Raft transport: delivery in send order on a later turn (never inside the
// sender's call), one-way cuts, isolation and healing, bounded queues, closed nodes and bad IDs.
import { describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../../src/transport/raft/memory-transport.js';
import { isValidNodeId } from '../../src/transport/raft/node-id.js';

interface TestMessage {
  readonly n: number;
}

function collect(network: MemoryNetwork<TestMessage>, id: string): { received: Array<[number, string]>; send: (to: string, n: number) => void } {
  const transport = network.connect(id);
  const received: Array<[number, string]> = [];
  transport.onMessage((message, from) => received.push([message.n, from]));
  return { received, send: (to, n) => transport.send(to, { n }) };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('MemoryNetwork', () => {
  it('delivers on a later turn, in order per pair', async () => {
    const network = new MemoryNetwork<TestMessage>();
    const a = collect(network, 'a');
    const b = collect(network, 'b');
    for (let n = 0; n < 5; n++) a.send('b', n);
    b.send('a', 99);
    expect(b.received).toEqual([]);
    await nextTurn();
    expect(b.received).toEqual([[0, 'a'], [1, 'a'], [2, 'a'], [3, 'a'], [4, 'a']]);
    expect(a.received).toEqual([[99, 'b']]);
    expect(network.stats()).toEqual({ sent: 6, delivered: 6, dropped: 0 });
  });

  it('cuts one way, isolates and heals', async () => {
    const network = new MemoryNetwork<TestMessage>();
    const a = collect(network, 'a');
    const b = collect(network, 'b');
    const c = collect(network, 'c');
    network.cut('a', 'b');
    a.send('b', 1);
    b.send('a', 2);
    await nextTurn();
    expect([a.received, b.received]).toEqual([[[2, 'b']], []]);
    network.isolate('c', ['a', 'b', 'c']);
    c.send('a', 3);
    a.send('c', 4);
    await nextTurn();
    expect(c.received).toEqual([]);
    network.heal();
    c.send('a', 5);
    a.send('b', 6);
    await nextTurn();
    expect(a.received).toEqual([[2, 'b'], [5, 'c']]);
    expect(b.received).toEqual([[6, 'a']]);
    expect(network.stats().dropped).toBe(3);
  });

  it('drops past the queue bound and to unknown or closed nodes', async () => {
    const network = new MemoryNetwork<TestMessage>({ queuedMessagesMax: 3 });
    const a = collect(network, 'a');
    const bTransport = network.connect('b');
    const got: number[] = [];
    bTransport.onMessage((message) => got.push(message.n));
    for (let n = 0; n < 5; n++) a.send('b', n);
    await nextTurn();
    expect(got).toEqual([0, 1, 2]);
    a.send('nobody', 7);
    await bTransport.close();
    a.send('b', 8);
    await nextTurn();
    expect(got).toEqual([0, 1, 2]);
    expect(network.stats()).toEqual({ sent: 7, delivered: 3, dropped: 4 });
    // A restarted node reconnects under the same ID.
    const again = network.connect('b');
    const after: number[] = [];
    again.onMessage((message) => after.push(message.n));
    a.send('b', 9);
    await nextTurn();
    expect(after).toEqual([9]);
  });

  it('delivers what a node sent before it closed, like a real network', async () => {
    const network = new MemoryNetwork<TestMessage>();
    const sender = network.connect('a');
    const b = collect(network, 'b');
    sender.send('b', { n: 1 });
    await sender.close();
    sender.send('b', { n: 2 });
    await nextTurn();
    expect(b.received).toEqual([[1, 'a']]);
  });

  it('survives a receiver that throws', async () => {
    const network = new MemoryNetwork<TestMessage>();
    const a = collect(network, 'a');
    network.connect('b').onMessage(() => {
      throw new Error('receiver failed');
    });
    const c = collect(network, 'c');
    a.send('b', 1);
    a.send('c', 2);
    await nextTurn();
    expect(c.received).toEqual([[2, 'a']]);
  });

  it('rejects bad and duplicate node IDs with codes', () => {
    const network = new MemoryNetwork<TestMessage>();
    expect(() => network.connect('a.b')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => network.connect('join')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    network.connect('n1');
    expect(() => network.connect('n1')).toThrow(expect.objectContaining({ code: 'TRANSPORT_DUPLICATE_NODE' }));
    expect(isValidNodeId('node-1_a')).toBe(true);
    expect(isValidNodeId('')).toBe(false);
  });
});
