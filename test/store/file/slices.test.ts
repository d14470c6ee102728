// Proves slice handling: slices roll over on count, size and age limits; a slice dropped by
// limits goes to the archive script as .bak files with (channel, dat, idx) arguments; with
// file_fds_limit only the slice being written keeps files open and old ones are reopened to read.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SimDisk } from '../../../src/store/file/sim-disk.js';
import type { FileHandle, FileIo } from '../../../src/store/file/io.js';
import { defaultStoreLimits } from '../../../src/store/limits.js';
import { message, openStore, serverInfo } from './support/open.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length > 0) rmSync(dirs.pop()!, { recursive: true, force: true });
});

function sliceNames(disk: SimDisk, dir: string): string[] {
  return disk.readdir(dir).map((e) => e.name).filter((n) => n.startsWith('msgs.')).sort();
}

describe('slice limits', () => {
  it('rolls over on message count, bytes and age', async () => {
    const cases = [
      { file: { sliceMaxMsgs: 3, sliceMaxBytes: 0 }, step: 0n, slices: 4 },
      { file: { sliceMaxMsgs: 0, sliceMaxBytes: 400 }, step: 0n, slices: 3 }, // ~133 bytes a message with overhead: 4 a slice
      { file: { sliceMaxMsgs: 0, sliceMaxBytes: 0, sliceMaxAgeMs: 1000 }, step: 400_000_000n, slices: 4 },
    ];
    for (const { file, step, slices } of cases) {
      const disk = new SimDisk();
      const store = openStore('/data', { io: disk, file });
      await store.recover();
      await store.init(serverInfo());
      const channel = await store.createChannel('s');
      for (let i = 0; i < 10; i++) {
        await channel.msgs.storeBatch([message('s', 'x'.repeat(80), 1_000_000_000n + BigInt(i) * step)]).durable;
      }
      await store.close();
      expect(sliceNames(disk, '/data/s')).toHaveLength(slices * 2);
    }
  });

  it('derives slice limits from channel limits when all slice limits are 0', async () => {
    const disk = new SimDisk();
    const limits = { ...defaultStoreLimits(), global: { ...defaultStoreLimits().global, maxMsgs: 8 } };
    const store = openStore('/data', { io: disk, limits, file: { sliceMaxBytes: 0 } });
    await store.recover();
    await store.init(serverInfo());
    const channel = await store.createChannel('d');
    for (let i = 1; i <= 8; i++) await channel.msgs.storeBatch([message('d', `m${i}`, BigInt(i))]).durable;
    await store.close();
    expect(sliceNames(disk, '/data/d')).toEqual(['msgs.1.dat', 'msgs.1.idx', 'msgs.2.dat', 'msgs.2.idx', 'msgs.3.dat', 'msgs.3.idx', 'msgs.4.dat', 'msgs.4.idx']);
  });
});

describe('slice archive script', () => {
  it('renames a dropped slice to .bak and runs the script with channel, dat and idx', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tstan-archive-'));
    dirs.push(root);
    const script = join(root, 'archive.sh');
    const out = join(root, 'archived.txt');
    writeFileSync(script, `#!/bin/sh\necho "$1 $2 $3" >> ${out}\n`);
    chmodSync(script, 0o755);
    const limits = { ...defaultStoreLimits(), global: { ...defaultStoreLimits().global, maxMsgs: 4 } };
    const dir = join(root, 'data');
    const store = openStore(dir, { limits, file: { sliceMaxMsgs: 2, sliceMaxBytes: 0, sliceArchiveScript: script } });
    await store.recover();
    await store.init(serverInfo());
    const channel = await store.createChannel('arch');
    for (let i = 1; i <= 7; i++) await channel.msgs.storeBatch([message('arch', `m${i}`, BigInt(i))]).durable;
    await store.close();
    const dat = join(dir, 'arch', 'msgs.1.dat.bak');
    const idx = join(dir, 'arch', 'msgs.1.idx.bak');
    expect(existsSync(dat) && existsSync(idx)).toBe(true);
    expect(existsSync(join(dir, 'arch', 'msgs.1.dat'))).toBe(false);
    // The script runs detached from the store; poll its output file with a deadline.
    const deadline = Date.now() + 10_000;
    while (!existsSync(out) || !readFileSync(out, 'utf8').includes('msgs.1.idx.bak')) {
      if (Date.now() > deadline) throw new Error('archive script did not run');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(readFileSync(out, 'utf8').split('\n')[0]).toBe(`arch ${dat} ${idx}`);
  });
});

describe('file_fds_limit', () => {
  it('keeps only the written slice open and reopens old slices to read them', async () => {
    const disk = new SimDisk();
    const open = new Set<string>();
    const tracking: FileIo = Object.assign(Object.create(disk) as FileIo, {
      open(path: string, options: { create: boolean }): FileHandle {
        const handle = disk.open(path, options);
        open.add(path);
        return { ...handle, close: () => open.delete(path) } as FileHandle;
      },
    });
    const store = openStore('/data', { io: tracking, file: { sliceMaxMsgs: 2, sliceMaxBytes: 0, fdsLimit: 10 } });
    await store.recover();
    await store.init(serverInfo());
    const channel = await store.createChannel('fd');
    for (let i = 1; i <= 10; i++) await channel.msgs.storeBatch([message('fd', `m${i}`, BigInt(i))]).durable;
    await channel.msgs.storeBatch([message('fd', 'm11', 11n)]).durable;
    await channel.msgs.storeBatch([message('fd', 'm12', 12n)]).durable;
    const slicesOpen = [...open].filter((p) => p.includes('/msgs.'));
    expect(slicesOpen.length).toBeLessThanOrEqual(4);
    // Reading an old message reopens its slice for the read only (message 1 is out of the cache
    // only after a restart, so reopen the store).
    await store.close();
    const again = openStore('/data', { io: tracking, file: { fdsLimit: 10 } });
    const state = await again.recover();
    expect([...open].filter((p) => p.includes('/msgs.')).length).toBeLessThanOrEqual(2);
    const msgs = state!.channels[0]!.channel.msgs;
    expect(Buffer.from((await msgs.lookup(1))!.data).toString()).toBe('m1');
    expect(Buffer.from((await msgs.lookup(5))!.data).toString()).toBe('m5');
    expect([...open].filter((p) => p.includes('/msgs.')).length).toBeLessThanOrEqual(2);
    await again.close();
  });
});
