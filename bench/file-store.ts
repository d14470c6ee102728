// The FILE store alone (no server, no network), on real files with fsync on:
// - write throughput: 128-byte messages in batches, several batches in flight as a server's
//   event-loop turns would have them; fsyncs per message show the group commit at work;
// - sync latency: one message per batch, each waiting for its fsync (p50/p99);
// - recovery: a store holding one million 128-byte messages across ten channels is closed and
//   reopened; the time of `recover()` (every record's CRC checked against its index) is reported.
//
// Run on its own: `node dist/bench/file-store.js` (after `npm run build`).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { FileStore } from '../src/store/file/file-store.js';
import type { FileIo, FileHandle } from '../src/store/file/io.js';
import { NodeFileIo } from '../src/store/file/node-io.js';
import type { FileStoreOptions } from '../src/store/file/options.js';
import { defaultStoreLimits } from '../src/store/limits.js';
import { emptyMsgProto, emptyServerInfo, type MsgProto } from '../src/store/records.js';

export interface FileStoreBenchOptions {
  writeMsgs?: number;
  writeBatch?: number;
  batchesInFlight?: number;
  latencyMsgs?: number;
  recoveryMsgs?: number;
  recoveryChannels?: number;
}

/** node:fs with a count of data fsyncs, to show how many messages one fsync covers. */
class CountingIo extends NodeFileIo {
  fsyncs = 0;
  override open(path: string, options: { create: boolean }): FileHandle {
    const handle = super.open(path, options);
    const sync = handle.sync.bind(handle);
    handle.sync = () => {
      this.fsyncs++;
      return sync();
    };
    return handle;
  }
}

function openStore(dir: string, io: FileIo, file: Partial<FileStoreOptions> = {}): FileStore {
  const limits = defaultStoreLimits();
  return new FileStore({
    dir,
    io,
    file,
    limits: { ...limits, global: { ...limits.global, maxMsgs: 0, maxBytes: 0 } },
    clock: { nowNs: () => BigInt(Date.now()) * 1_000_000n },
    logger: pino({ level: 'silent' }),
  });
}

function batch(channel: string, size: number, payload: Uint8Array, now: bigint): MsgProto[] {
  return Array.from({ length: size }, () => ({ ...emptyMsgProto(), subject: channel, data: payload, timestamp: now }));
}

async function measureWrites(dir: string, total: number, size: number, inFlight: number): Promise<object> {
  const io = new CountingIo();
  const store = openStore(dir, io);
  await store.recover();
  await store.init({ ...emptyServerInfo(), clusterId: 'bench' });
  const channel = await store.createChannel('writes');
  const payload = Buffer.alloc(128, 0x61);
  await channel.msgs.storeBatch(batch('writes', 1, payload, 1n)).durable;
  const fsyncsBefore = io.fsyncs;
  const started = process.hrtime.bigint();
  const pending = new Set<Promise<void>>();
  for (let sent = 0; sent < total; sent += size) {
    const durable = channel.msgs.storeBatch(batch('writes', size, payload, BigInt(sent))).durable;
    const tracked = durable.then(() => {
      pending.delete(tracked);
    });
    pending.add(tracked);
    if (pending.size >= inFlight) await Promise.race(pending);
  }
  await Promise.all(pending);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const fsyncs = io.fsyncs - fsyncsBefore;
  await store.close();
  return {
    msgs: total,
    batch: size,
    batchesInFlight: inFlight,
    msgsPerSec: Math.round(total / seconds),
    mbPerSec: Number(((total * 128) / seconds / 1e6).toFixed(1)),
    fsyncs,
    msgsPerFsync: Number((total / Math.max(1, fsyncs)).toFixed(1)),
  };
}

async function measureLatency(dir: string, total: number): Promise<object> {
  const store = openStore(dir, new NodeFileIo());
  await store.recover();
  await store.init({ ...emptyServerInfo(), clusterId: 'bench' });
  const channel = await store.createChannel('latency');
  const payload = Buffer.alloc(128, 0x62);
  const latenciesUs: number[] = [];
  for (let i = 0; i < total; i++) {
    const started = process.hrtime.bigint();
    await channel.msgs.storeBatch(batch('latency', 1, payload, BigInt(i))).durable;
    latenciesUs.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  await store.close();
  latenciesUs.sort((a, b) => a - b);
  const at = (q: number): number => Number((latenciesUs[Math.min(latenciesUs.length - 1, Math.floor(q * latenciesUs.length))]! / 1000).toFixed(2));
  return { msgs: total, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1) };
}

async function measureRecovery(dir: string, total: number, channels: number): Promise<object> {
  const payload = Buffer.alloc(128, 0x63);
  const build = openStore(dir, new NodeFileIo(), { sync: false });
  await build.recover();
  await build.init({ ...emptyServerInfo(), clusterId: 'bench' });
  const perChannel = Math.ceil(total / channels);
  const buildStarted = process.hrtime.bigint();
  for (let c = 0; c < channels; c++) {
    const channel = await build.createChannel(`channel.${c}`);
    for (let sent = 0; sent < perChannel; sent += 1000) {
      await channel.msgs.storeBatch(batch(`channel.${c}`, Math.min(1000, perChannel - sent), payload, BigInt(sent))).durable;
    }
  }
  await build.close();
  const buildSeconds = Number(process.hrtime.bigint() - buildStarted) / 1e9;
  const store = openStore(dir, new NodeFileIo());
  const started = process.hrtime.bigint();
  const state = await store.recover();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const recovered = state?.channels.reduce((sum, c) => sum + c.channel.msgs.state().msgs, 0) ?? 0;
  const rssMb = Math.round(process.memoryUsage().rss / 1e6);
  await store.close();
  if (recovered !== perChannel * channels) throw new Error(`recovered ${recovered} messages, expected ${perChannel * channels}`);
  return { msgs: recovered, channels, buildSeconds: Number(buildSeconds.toFixed(2)), recoverySeconds: Number(seconds.toFixed(2)), rssMb };
}

export async function runFileStoreBench(options: FileStoreBenchOptions = {}): Promise<object> {
  const root = await mkdtemp(join(tmpdir(), 'tstan-file-bench-'));
  try {
    const writes = await measureWrites(join(root, 'writes'), options.writeMsgs ?? 200_000, options.writeBatch ?? 256, options.batchesInFlight ?? 8);
    const latency = await measureLatency(join(root, 'latency'), options.latencyMsgs ?? 500);
    const recovery = await measureRecovery(join(root, 'recovery'), options.recoveryMsgs ?? 1_000_000, options.recoveryChannels ?? 10);
    return { workload: 'file-store', fsync: true, writes, syncLatency: latency, recovery };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  runFileStoreBench().then(
    (result) => {
      console.log(JSON.stringify(result));
      const r = result as { writes: Record<string, number>; syncLatency: Record<string, number>; recovery: Record<string, number> };
      console.log(`FILE store, fsync on, 128-byte messages
  writes      ${r.writes['msgsPerSec']} msgs/s in batches of ${r.writes['batch']} (${r.writes['msgsPerFsync']} msgs per fsync)
  sync batch  p50 ${r.syncLatency['p50Ms']} ms, p99 ${r.syncLatency['p99Ms']} ms (one message per batch)
  recovery    ${r.recovery['msgs']} msgs in ${r.recovery['channels']} channels: ${r.recovery['recoverySeconds']} s (RSS ${r.recovery['rssMb']} MB)`);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
