// The STAN benchmark's command line: lists are matched without regard to case, a name it does not
// know is refused with the names it does, and node: server flags go to node.
import { describe, expect, it } from 'vitest';
import { stanBenchOptionsFromArgs } from '../../bench/stan.js';
import { splitServerFlags } from '../../bench/tstan-server.js';

describe('stanBenchOptionsFromArgs', () => {
  it('takes stores, workloads and clients in any case, spelled as the benchmark prints them', () => {
    const options = stanBenchOptionsFromArgs(['--stores', 'file,Memory', '--workloads', 'w3,W1', '--clients', 'C']);
    expect(options.stores).toEqual(['FILE', 'MEMORY']);
    expect(options.workloads).toEqual(['W3', 'W1']);
    expect(options.clients).toEqual(['c']);
  });

  it('refuses an unknown name and lists the known ones', () => {
    expect(() => stanBenchOptionsFromArgs(['--stores', 'file,disk'])).toThrow('--stores: unknown disk; known: MEMORY, FILE');
  });

  it('gives server flags written node:F to node and the rest to tstan', () => {
    const options = stanBenchOptionsFromArgs(['--server-flags', 'node:--max-semi-space-size=1 -sd -encrypt']);
    expect(splitServerFlags(options.serverFlags ?? [])).toEqual({ node: ['--max-semi-space-size=1'], tstan: ['-sd', '-encrypt'] });
  });
});
