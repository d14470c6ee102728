// Proves the simulated disk keeps exactly what was made durable: fsynced bytes survive a power
// failure, unsynced writes survive only as a prefix (possibly torn), files and renames survive
// only once their directory was fsynced; and that the node:fs FileIo does the same operations.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SimDisk } from '../../../src/store/file/sim-disk.js';
import { NodeFileIo } from '../../../src/store/file/node-io.js';
import type { FileIo } from '../../../src/store/file/io.js';

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('SimDisk power failure', () => {
  it('keeps synced bytes and a prefix of later writes', async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const disk = new SimDisk();
      disk.mkdir('/d');
      const file = disk.open('/d/f', { create: true });
      await disk.syncDir('/d');
      file.append(Buffer.from('durable;'));
      await file.sync();
      const later = ['one;', 'two;', 'three;'];
      for (const part of later) file.append(Buffer.from(part));
      disk.powerFail(seeded(seed));
      const text = disk.readFile('/d/f').toString();
      expect(text.startsWith('durable;')).toBe(true);
      expect('durable;one;two;three;'.startsWith(text)).toBe(true);
    }
  });

  it('loses a file created in a directory that was never fsynced', async () => {
    const disk = new SimDisk();
    disk.mkdir('/d');
    await disk.syncDir('/');
    const file = disk.open('/d/new', { create: true });
    file.append(Buffer.from('x'));
    await file.sync();
    disk.powerFail(seeded(1));
    expect(disk.exists('/d')).toBe(true);
    expect(disk.exists('/d/new')).toBe(false);
  });

  it('undoes a rename until the directory is fsynced', async () => {
    const disk = new SimDisk();
    disk.mkdir('/d');
    await disk.syncDir('/');
    const a = disk.open('/d/a', { create: true });
    a.append(Buffer.from('old'));
    await a.sync();
    await disk.syncDir('/d');
    const b = disk.open('/d/b', { create: true });
    b.append(Buffer.from('new'));
    await b.sync();
    disk.rename('/d/b', '/d/a');
    disk.powerFail(seeded(2));
    expect(disk.readFile('/d/a').toString()).toBe('old');
    expect(disk.exists('/d/b')).toBe(false); // its creation was never made durable either
    const c = disk.open('/d/c', { create: true });
    c.append(Buffer.from('new'));
    await c.sync();
    disk.rename('/d/c', '/d/a');
    await disk.syncDir('/d');
    disk.powerFail(seeded(3));
    expect(disk.readFile('/d/a').toString()).toBe('new');
  });

  it('refuses handles from before the failure and frees locks', () => {
    const disk = new SimDisk();
    const file = disk.open('/f', { create: true });
    disk.lock('/lck');
    expect(() => disk.lock('/lck')).toThrow(/locked/);
    disk.powerFail(seeded(4));
    expect(() => file.append(Buffer.from('x'))).toThrow(/EIO/);
    expect(() => disk.lock('/lck')).not.toThrow();
  });
});

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe.each([
  ['SimDisk', (): { io: FileIo; root: string } => ({ io: new SimDisk(), root: '/root' })],
  ['NodeFileIo', (): { io: FileIo; root: string } => {
    const root = mkdtempSync(join(tmpdir(), 'tstan-io-'));
    dirs.push(root);
    return { io: new NodeFileIo(), root: join(root, 'r') };
  }],
])('%s file operations', (_name, make) => {
  it('writes, reads, truncates, renames, lists and locks', async () => {
    const { io, root } = make();
    io.mkdir(`${root}/sub`);
    const file = io.open(`${root}/sub/f`, { create: true });
    file.append(Buffer.from('hello'));
    file.writeAt(5, Buffer.from(' world'));
    expect(file.read(0, 100).toString()).toBe('hello world');
    file.truncate(5);
    expect(file.size()).toBe(5);
    await file.sync();
    file.syncBlocking();
    file.close();
    io.rename(`${root}/sub/f`, `${root}/sub/g`);
    await io.syncDir(`${root}/sub`);
    expect(io.readdir(root)).toEqual([{ name: 'sub', isDirectory: true }]);
    expect(io.readdir(`${root}/sub`)).toEqual([{ name: 'g', isDirectory: false }]);
    expect(() => io.open(`${root}/sub/missing`, { create: false })).toThrow(/ENOENT/);
    const lock = io.lock(`${root}/.lck`);
    expect(() => io.lock(`${root}/.lck`)).toThrow(/locked/);
    lock.release();
    io.lock(`${root}/.lck`).release();
    io.unlink(`${root}/sub/g`);
    io.removeDir(`${root}/sub`);
    expect(io.exists(`${root}/sub`)).toBe(false);
  });
});
