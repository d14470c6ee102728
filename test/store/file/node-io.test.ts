// Proves the node:fs file handle's vectored write: any number of chunks (past the kernel's
// IOV_MAX of 1024) land one after the other at the position given, as one write of their
// concatenation would, and the handle's size follows.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeFileIo } from '../../../src/store/file/node-io.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length > 0) rmSync(dirs.pop()!, { recursive: true, force: true });
});

describe('NodeFileIo writeChunksAt', () => {
  it('writes every chunk in order at the position, as one concatenated write would', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tstan-io-'));
    dirs.push(dir);
    const handle = new NodeFileIo().open(join(dir, 'f'), { create: true });
    handle.writeAt(0, Buffer.from('head'));
    const chunks = Array.from({ length: 3_000 }, (_, i) => Buffer.from(`<${i}>`.repeat(1 + (i % 3))));
    handle.writeChunksAt!(4, chunks);
    const expected = Buffer.concat([Buffer.from('head'), ...chunks]);
    expect(handle.size()).toBe(expected.length);
    handle.close();
    expect(readFileSync(join(dir, 'f')).equals(expected)).toBe(true);
  });
});
