// Proves the power-loss model on a directory written by hand: files cut back to the lengths the
// fsync log reported (following renames), files never fsynced emptied, LevelDB's write-ahead logs
// cut to their recorded lengths while its tables, MANIFEST and CURRENT are left alone, and a torn
// tail that keeps whole sectors of the lost bytes with the last one garbage. Also the node-log
// judge: known harmless lines are counted apart, corruption never excused, damage reactions kept apart.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { powerLoss, readDurableLengths } from './disk.js';
import { judgeLogLines } from './node-logs.js';
import { seededRandom } from '../random.js';

describe('power loss from the fsync log', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function setUp() {
    dir = mkdtempSync(join(tmpdir(), 'tstan-disk-'));
    const data = join(dir, 'data');
    const level = join(data, '.raft', 'log');
    mkdirSync(join(data, 'c0'), { recursive: true });
    mkdirSync(level, { recursive: true });
    writeFileSync(join(data, 'c0', 'msgs.1.dat'), Buffer.alloc(3000, 1));
    writeFileSync(join(data, 'server.dat'), Buffer.alloc(100, 2));
    writeFileSync(join(data, 'clients.dat'), Buffer.alloc(4, 3));
    writeFileSync(join(level, '000003.log'), Buffer.alloc(900, 4));
    writeFileSync(join(level, '000005.ldb'), Buffer.alloc(700, 5));
    writeFileSync(join(level, 'CURRENT'), 'MANIFEST-000002\n');
    writeFileSync(join(level, 'MANIFEST-000002'), Buffer.alloc(50, 6));
    const log = [
      { synced: join(data, 'c0', 'msgs.1.dat'), length: 1000 },
      { synced: join(data, 'server.dat.tmp'), length: 100 },
      { renamed: join(data, 'server.dat.tmp'), to: join(data, 'server.dat') },
      { levelDb: level, logs: { '000003.log': 600 } },
    ];
    writeFileSync(join(dir, 'fsync.ndjson'), log.map((l) => JSON.stringify({ ns: '1', pid: 1, ...l })).join('\n') + '\n');
    return { data, level };
  }

  it('cuts every file back to what was fsynced, following renames, and leaves LevelDB tables alone', () => {
    const { data, level } = setUp();
    const changes = powerLoss(data, readDurableLengths(join(dir, 'fsync.ndjson')));
    const size = (path: string) => statSync(path).size;
    expect(size(join(data, 'c0', 'msgs.1.dat'))).toBe(1000);
    expect(size(join(data, 'server.dat'))).toBe(100);
    expect(size(join(data, 'clients.dat'))).toBe(0);
    expect(size(join(level, '000003.log'))).toBe(600);
    expect(size(join(level, '000005.ldb'))).toBe(700);
    expect(size(join(level, 'MANIFEST-000002'))).toBe(50);
    expect(changes.map((c) => c.action)).toEqual(['truncated', 'truncated', 'truncated']);
  });

  it('tears one tail in whole sectors: the kept bytes are the originals but for a garbage last sector', () => {
    const { data } = setUp();
    const changes = powerLoss(data, readDurableLengths(join(dir, 'fsync.ndjson')), { tear: true, random: seededRandom(5) });
    const torn = changes.find((c) => c.action === 'torn');
    expect(torn).toBeDefined();
    expect(torn!.file).toBe(join(data, 'c0', 'msgs.1.dat'));
    const bytes = readFileSync(torn!.file);
    expect((bytes.length - 1000) % 512).toBe(0);
    expect(bytes.length).toBeGreaterThan(1000);
    expect(bytes.subarray(0, bytes.length - 512).every((b) => b === 1)).toBe(true);
  });
});

describe('node log judge', () => {
  const line = (time: number, msg: string, level = 50) => JSON.stringify({ level, time, msg });

  it('counts known harmless lines apart, never excuses corruption, and keeps lines after deliberate damage apart', () => {
    const lines = [line(1, 'a known harmless failure'), line(2, 'something broke'), line(3, 'a known harmless failure: corrupt'), line(10, 'checksum mismatch')];
    const verdict = judgeLogLines(lines, 5, [{ pattern: /"msg":"a known harmless failure/, why: 'for the test' }]);
    expect(verdict.known).toBe(1);
    expect(verdict.unexpected).toEqual([lines[1], lines[2]]);
    expect(verdict.afterDamage).toEqual([lines[3]]);
  });
});
