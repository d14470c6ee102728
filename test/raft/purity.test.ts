// Proves the Raft core stays pure: outside the one driver file, no source in src/raft awaits,
// sets a timer, reads a clock or a random source, or imports a Node module (comments aside).
// Everything it would need of those is injected or left to driver.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const directory = fileURLToPath(new URL('../../src/raft/', import.meta.url));
const forbidden = /\bawait\b|\basync\b|setTimeout|setInterval|setImmediate|queueMicrotask|Date\.now|new Date\b|Math\.random|performance\.now|from 'node:|\bprocess\./;

function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
}

describe('the Raft core', () => {
  const files = readdirSync(directory).filter((name) => name.endsWith('.ts') && name !== 'driver.ts');

  it('has its sources besides the driver', () => {
    expect(files).toEqual(expect.arrayContaining(['raft.ts', 'node.ts', 'leader.ts', 'follower.ts', 'proposals.ts', 'catch-up-gate.ts']));
  });

  for (const file of files) {
    it(`${file} has no await, timer, clock, randomness or Node module`, () => {
      const lines = code(readFileSync(join(directory, file), 'utf8')).split('\n');
      const offending = lines.map((line, i) => `${i + 1}: ${line.trim()}`).filter((line) => forbidden.test(line));
      expect(offending).toEqual([]);
    });
  }
});
