// Proves the FILE store end to end on node:fs: state (server info, clients, channels, messages,
// subscriptions with pending sets) survives close and reopen; files it writes parse through the
// independent reader; limits drop whole old slices; the directory lock keeps a second store out.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { emptySubState } from '../../../src/store/records.js';
import { defaultStoreLimits } from '../../../src/store/limits.js';
import { message, openStore, serverInfo } from './support/open.js';
import { protoInt, protoString, readIndex, readProto, readRecords } from './support/reader.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tstan-fs-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  while (dirs.length > 0) rmSync(dirs.pop()!, { recursive: true, force: true });
});

describe('FileStore on node:fs', () => {
  it('recovers everything after close and reopen', async () => {
    const dir = tempDir();
    const store = openStore(dir);
    expect(await store.recover()).toBeUndefined();
    await store.init(serverInfo());
    await store.addClient({ id: 'c1', hbInbox: '_INBOX.hb1', connId: Buffer.from('conn1'), protocol: 1, pingInterval: 5, pingMaxOut: 88 });
    await store.addClient({ id: 'c2', hbInbox: '_INBOX.hb2', connId: Buffer.from('conn2'), protocol: 1, pingInterval: 5, pingMaxOut: 88 });
    expect(await store.deleteClient('c2')).toBe(true);
    const foo = await store.createChannel('foo');
    const batch = foo.msgs.storeBatch([message('foo', 'a', 10n), message('foo', 'b', 11n), message('foo', 'c', 12n)]);
    expect([batch.firstSeq, batch.lastSeq]).toEqual([1, 3]);
    await batch.durable;
    const sub = { ...emptySubState(), clientId: 'c1', inbox: 'in', ackInbox: 'ack', maxInFlight: 10, ackWaitInSecs: 30, durableName: 'dur', isDurable: true };
    foo.subs.createSub(sub);
    expect(sub.id).toBe(1);
    foo.subs.addSeqPending(1, 1);
    foo.subs.addSeqPending(1, 2);
    foo.subs.ackSeqPending(1, 1);
    await foo.subs.flush();
    await store.close();

    const again = openStore(dir);
    const state = await again.recover();
    expect(state?.info.clusterId).toBe('test-cluster');
    expect(state?.clients.map((c) => c.id)).toEqual(['c1']);
    expect(Buffer.from(state!.clients[0]!.connId).toString()).toBe('conn1');
    expect(state?.channels.map((c) => c.channel.name)).toEqual(['foo']);
    const recovered = state!.channels[0]!;
    expect(recovered.subscriptions).toEqual([{ sub: { ...sub, lastSent: 2 }, pending: [2] }]);
    const msgs = recovered.channel.msgs;
    expect([msgs.firstSequence(), msgs.lastSequence()]).toEqual([1, 3]);
    expect(Buffer.from((await msgs.lookup(2))!.data).toString()).toBe('b');
    expect(await msgs.sequenceFromTimestamp(11n)).toBe(2);
    expect(await msgs.sequenceFromTimestamp(13n)).toBe(4);
    const next = msgs.storeBatch([message('foo', 'd', 13n)]);
    expect(next.firstSeq).toBe(4);
    await next.durable;
    await again.close();
  });

  it('writes files the independent reader parses', async () => {
    const dir = tempDir();
    const store = openStore(dir);
    await store.recover();
    await store.init(serverInfo('golden'));
    await store.addClient({ id: 'me', hbInbox: 'hb', connId: new Uint8Array(0), protocol: 1, pingInterval: 0, pingMaxOut: 0 });
    const channel = await store.createChannel('bar');
    await channel.msgs.storeBatch([message('bar', 'x', 1_700_000_000_000_000_001n), message('bar', 'yy', 1_700_000_000_000_000_002n)]).durable;
    channel.subs.createSub({ ...emptySubState(), clientId: 'me', inbox: 'i', ackInbox: 'a', maxInFlight: 1, ackWaitInSecs: 1 });
    channel.subs.addSeqPending(1, 2);
    await store.close();

    const server = readRecords(readFileSync(join(dir, 'server.dat')), false);
    expect(server).toHaveLength(1);
    expect(protoString(readProto(server[0]!.payload), 1)).toBe('golden');
    const clients = readRecords(readFileSync(join(dir, 'clients.dat')), true);
    expect(clients.map((r) => [r.type, protoString(readProto(r.payload), 1)])).toEqual([[1, 'me']]);
    const subs = readRecords(readFileSync(join(dir, 'bar', 'subs.dat')), true);
    expect(subs.map((r) => r.type)).toEqual([1, 5]);
    expect(protoInt(readProto(subs[1]!.payload), 2)).toBe(2n);
    const dat = readRecords(readFileSync(join(dir, 'bar', 'msgs.1.dat')), false);
    const idx = readIndex(readFileSync(join(dir, 'bar', 'msgs.1.idx')));
    expect(dat.map((r) => protoString(readProto(r.payload), 4))).toEqual(['x', 'yy']);
    expect(idx).toEqual(dat.map((r, i) => ({
      seq: BigInt(i + 1),
      offset: BigInt(r.offset),
      timestamp: 1_700_000_000_000_000_001n + BigInt(i),
      size: r.payload.length,
    })));
    expect(dat.map((r) => protoInt(readProto(r.payload), 1))).toEqual([1n, 2n]);
  });

  it('drops whole old slices when limits remove their messages', async () => {
    const dir = tempDir();
    const limits = { ...defaultStoreLimits(), global: { ...defaultStoreLimits().global, maxMsgs: 10 } };
    const store = openStore(dir, { limits, file: { sliceMaxMsgs: 4, sliceMaxBytes: 0 } });
    await store.recover();
    await store.init(serverInfo());
    const channel = await store.createChannel('lim');
    for (let i = 1; i <= 25; i++) await channel.msgs.storeBatch([message('lim', `m${i}`, BigInt(i))]).durable;
    expect([channel.msgs.firstSequence(), channel.msgs.lastSequence()]).toEqual([16, 25]);
    expect(channel.msgs.state().msgs).toBe(10);
    expect(await channel.msgs.lookup(15)).toBeUndefined();
    expect(Buffer.from((await channel.msgs.lookup(16))!.data).toString()).toBe('m16');
    await store.close();
    const files = readdirSync(join(dir, 'lim')).filter((f) => f.startsWith('msgs')).sort();
    expect(files).toEqual(['msgs.4.dat', 'msgs.4.idx', 'msgs.5.dat', 'msgs.5.idx', 'msgs.6.dat', 'msgs.6.idx', 'msgs.7.dat', 'msgs.7.idx']);
  });

  it('answers a channel name the file system refuses with STORE_IO, and goes on working', async () => {
    const dir = tempDir();
    const store = openStore(dir);
    await store.recover();
    await store.init(serverInfo());
    await expect(store.createChannel('x'.repeat(300))).rejects.toMatchObject({ code: 'STORE_IO' });
    const ok = await store.createChannel('fine');
    await ok.msgs.storeBatch([message('fine', 'still works', 1n)]).durable;
    await store.close();
  });

  it('refuses a second store on a locked directory', async () => {
    const dir = tempDir();
    const first = openStore(dir);
    await first.recover();
    const second = openStore(dir);
    await expect(second.recover()).rejects.toMatchObject({ code: 'STORE_LOCKED' });
    await first.close();
    const third = openStore(dir);
    await third.recover();
    await third.close();
  });
});
