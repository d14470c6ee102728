// Proves the benchmark's main-thread CPU split: /proc gives a process's main thread apart from its
// other threads, a tstan run's JSON carries serverMainCpuSec / serverMainCpuUsPerMsg (nats-server's
// does not), and the report shows `(main thread x)` only for rows that have it.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { jetStreamConfig, natsServerVersion } from '../../bench/deployments.js';
import { cpuSeconds, mainThreadCpuSeconds } from '../../bench/proc-stats.js';
import { formatComparison, formatTable, type Row } from '../../bench/stan-report.js';
import { runStanBench } from '../../bench/stan.js';
import { skipWithout } from '../support/test-deps.js';

/** Spins until `thread()` CPU seconds have grown by `seconds` (or 10 s of wall time have passed). */
function burn(thread: () => number, seconds: number): void {
  const start = thread();
  const deadline = Date.now() + 10_000;
  let x = 0;
  while (thread() - start < seconds && Date.now() < deadline) for (let i = 0; i < 100_000; i++) x += Math.sqrt(i);
  expect(x).toBeGreaterThan(0);
}

describe('mainThreadCpuSeconds', () => {
  it('counts the main thread: > 0, at most the whole process, and grows with CPU burnt on it', () => {
    const before = mainThreadCpuSeconds(process.pid);
    burn(() => mainThreadCpuSeconds(process.pid), 0.2);
    // Main thread first, then all threads: the later reading of all cannot be below it.
    const main = mainThreadCpuSeconds(process.pid);
    const all = cpuSeconds(process.pid);
    expect(main).toBeGreaterThan(0);
    expect(main).toBeLessThanOrEqual(all);
    expect(main - before).toBeGreaterThanOrEqual(0.2);
  });

  it('leaves out what another thread burns, which cpuSeconds counts', async () => {
    const mainBefore = mainThreadCpuSeconds(process.pid);
    const allBefore = cpuSeconds(process.pid);
    // The worker spins until its own thread (/proc/thread-self) has used 0.3 s of CPU.
    const worker = new Worker(
      `const { readFileSync } = require('node:fs');
       const own = () => { const s = readFileSync('/proc/thread-self/stat', 'utf8'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return (Number(f[11]) + Number(f[12])) / 100; };
       const start = own(); const deadline = Date.now() + 10000; let x = 0;
       while (own() - start < 0.3 && Date.now() < deadline) for (let i = 0; i < 100000; i++) x += Math.sqrt(i);`,
      { eval: true },
    );
    await new Promise((resolve, reject) => {
      worker.once('exit', resolve);
      worker.once('error', reject);
    });
    const mainUsed = mainThreadCpuSeconds(process.pid) - mainBefore;
    const allUsed = cpuSeconds(process.pid) - allBefore;
    expect(allUsed - mainUsed).toBeGreaterThanOrEqual(0.25);
  });
});

const base: Row = {
  config: 'standalone MEMORY',
  configKey: 'MEMORY',
  workload: 'W4',
  client: 'c-libnats',
  clientKind: 'c',
  runs: 1,
  msgsPerSec: 20_000,
  deliveredPerSec: 200_000,
  e2eP50Ms: 1,
  e2eP99Ms: 2,
  clientCpuSec: 0.1,
  clientCores: 0.1,
  serverCpuSec: 0.8,
  serverCpuUsPerMsg: 40,
  serverPeakRssMb: 90,
  reference: '–',
};
const withMain: Row = { ...base, serverMainCpuSec: 0.51, serverMainCpuUsPerMsg: 25.5 };

describe('the report', () => {
  it('shows the main thread beside the server µs/msg, with the footnote, only for rows that have it', () => {
    const table = formatTable([withMain, { ...base, config: 'nats-server JetStream', configKey: 'jetstream-MEMORY' }]);
    const rows = table.split('\n').filter((line) => line.startsWith('| standalone') || line.startsWith('| nats-server'));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain('| 40.0 (main thread 25.5) |');
    expect(rows[1]).toContain('| 40.0 |');
    expect(rows[1]).not.toContain('main thread');
    expect(table).toContain("V8's optimizing compiler and GC threads");

    const without = formatTable([base]);
    expect(without).not.toContain('main thread');
    expect(without).toContain('| 40.0 |');
  });

  it('compares the main thread of two builds in the server µs/msg columns and its ratio line', () => {
    const a: Row = { ...withMain, build: 'A', paired_serverCpuUsPerMsg: 0.95, paired_serverCpuUsPerMsgMin: 0.9, paired_serverCpuUsPerMsgMax: 1, paired_serverMainCpuUsPerMsg: 0.98, paired_serverMainCpuUsPerMsgMin: 0.96, paired_serverMainCpuUsPerMsgMax: 1.01 };
    const b: Row = { ...base, build: 'B', serverCpuUsPerMsg: 42, serverMainCpuSec: 0.52, serverMainCpuUsPerMsg: 26 };
    const text = formatComparison([a, b], 'A', 'B');
    const row = text.split('\n').find((line) => line.startsWith('| standalone'))!;
    // The header's 13 columns stay 13.
    expect(row.split(' | ')).toHaveLength(13);
    expect(row).toContain('| 40.0 / 42.0 (main thread 25.5 / 26.0) | 0.950 (0.90–1.00) · main thread 0.980 (0.96–1.01) |');
    const ratioLine = JSON.parse(text.split('\n').find((line) => line.includes('"type":"ratio"'))!) as Record<string, unknown>;
    expect(ratioLine['serverMainCpuUsPerMsg']).toBe(Number((25.5 / 26).toFixed(3)));

    const plain = formatComparison([{ ...base, build: 'A' }, { ...base, build: 'B' }], 'A', 'B');
    expect(plain).not.toContain('main thread');
    expect(plain).not.toContain('serverMainCpuUsPerMsg');
  });
});

describe('the STAN suite', () => {
  it('puts the main-thread CPU of a tstan run in its row, at most the whole server CPU', async () => {
    const rows = await runStanBench({ print: false, runs: 1, scale: 0.1, stores: ['MEMORY'], workloads: ['W1'], clients: ['lean'], jetstream: false });
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row['failedRuns']).toBe(0);
    expect(typeof row['serverMainCpuSec']).toBe('number');
    expect(typeof row['serverMainCpuUsPerMsg']).toBe('number');
    expect(Number(row['serverMainCpuSec'])).toBeGreaterThan(0);
    // Both are read at the same marks, one after the other: one clock tick (10 ms) apart at most.
    expect(Number(row['serverMainCpuSec'])).toBeLessThanOrEqual(Number(row['serverCpuSec']) + 0.011);
  }, 120_000);

  it.skipIf(skipWithout('libnats-dev', 'cc', 'nats-server'))('leaves it out for nats-server, whose threads say nothing of the cost', async () => {
    const rows = await runStanBench({ print: false, runs: 1, scale: 0.01, configs: [jetStreamConfig('MEMORY', natsServerVersion() ?? 'unknown')], workloads: ['W1'], clients: ['c'] });
    expect(rows).toHaveLength(1);
    expect(rows[0]!['failedRuns']).toBe(0);
    expect(rows[0]!['serverCpuSec']).toBeDefined();
    expect(rows[0]!['serverMainCpuSec']).toBeUndefined();
    expect(rows[0]!['serverMainCpuUsPerMsg']).toBeUndefined();
  }, 120_000);
});
