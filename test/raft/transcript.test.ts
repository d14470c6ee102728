// Proves Raft behaviours scenario by scenario: each file in testdata/ is a script of commands
// (in the style of etcd's datadriven tests) with the expected output under each; the real core
// runs the script and every output must match. RAFT_REWRITE=1 regenerates the expectations.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InteractionEnv, parseTranscript, renderTranscript } from './transcript/interaction-env.js';

const directory = fileURLToPath(new URL('./testdata/', import.meta.url));
const files = readdirSync(directory).filter((name) => name.endsWith('.txt')).sort();
const rewrite = process.env['RAFT_REWRITE'] === '1';

describe('raft transcripts', () => {
  it('has the scenarios the issue asks for', () => {
    for (const name of ['election', 'prevote', 'checkquorum', 'conflict', 'snapshot', 'transfer', 'membership', 'promotion', 'removal', 'rejoin']) {
      expect(files).toContain(`${name}.txt`);
    }
  });

  for (const file of files) {
    it(file, () => {
      const path = join(directory, file);
      const cases = parseTranscript(readFileSync(path, 'utf8'));
      expect(cases.length).toBeGreaterThan(0);
      const env = new InteractionEnv();
      const outputs = cases.map((c) => env.run(c.parsed));
      if (rewrite) {
        writeFileSync(path, renderTranscript(cases, outputs));
        return;
      }
      cases.forEach((c, i) => {
        expect(outputs[i], `${file}:${c.line} ${c.command}`).toBe(c.expected);
      });
    });
  }
});
