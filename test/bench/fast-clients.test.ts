// Proves the benchmark's fast clients (the C program on libnats, the lean TypeScript client) run
// W1-W4 against a real tstan process, print a complete result and lose nothing: every publish
// acknowledged once, every subscriber given every message in order. Tiny counts; no timing checked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareClients, runClient, type ClientRun, type PreparedClients } from '../../bench/client-programs.js';
import { WORKLOADS, resultProblems, type ClientResult, type WorkloadName } from '../../bench/client-result.js';
import { jetStreamConfig, natsServerVersion } from '../../bench/deployments.js';
import { runStanBench } from '../../bench/stan.js';
import { ownRoot, serverBuild } from '../../bench/tstan-server.js';
import { startTstan, type TstanProcess } from '../support/tstan-process.js';
import { skipWithout } from '../support/test-deps.js';

// The C client needs a compiler and libnats-dev; without them (and not under .ci/run) its cases
// are skipped, which the run says once (test/support/test-deps.ts).
const withoutC = skipWithout('libnats-dev', 'cc');

const COUNTS: Record<WorkloadName, number> = { W1: 300, W2: 20, W3: 300, W4: 40 };
const TIMEOUT_SEC = 30;

function expectShape(result: ClientResult, workload: WorkloadName): void {
  const common = ['messages', 'seconds', 'msgsPerSec', 'clientCpuSec', 'clientPeakRssMb', 'acked'] as const;
  const byWorkload: Record<WorkloadName, readonly string[]> = {
    W1: ['ackP50Ms', 'ackP99Ms'],
    W2: ['p50Ms', 'p90Ms', 'p99Ms', 'maxMs'],
    W3: ['ackP50Ms', 'ackP99Ms', 'received', 'deliveredPerSec', 'e2eP50Ms', 'e2eP99Ms'],
    W4: ['ackP50Ms', 'ackP99Ms', 'received', 'deliveredPerSec', 'e2eP50Ms', 'e2eP99Ms'],
  };
  for (const key of [...common, ...byWorkload[workload]]) {
    expect(typeof (result as unknown as Record<string, unknown>)[key], key).toBe('number');
  }
  expect(result.workload).toBe(workload);
  expect(result.status).toBe('OK');
}

/** A run that printed a whole result, with every message acknowledged once and delivered in order. */
function expectComplete(run: ClientRun, workload: WorkloadName, count: number, marks: readonly string[]): void {
  expect(run.failure).toBe('');
  expect(run.exitCode).toBe(0);
  const result = run.result!;
  expectShape(result, workload);
  expect(resultProblems(result, count)).toEqual([]);
  expect(result.acked).toBe(count);
  if (workload === 'W3' || workload === 'W4') {
    expect(result.subscribers).toBe(workload === 'W4' ? 10 : 1);
    expect(result.received).toBe(count * result.subscribers!);
    expect(result.outOfOrder).toBe(0);
  }
  expect(marks).toEqual(['start', 'end']);
}

describe('benchmark fast clients against tstan', () => {
  let server: TstanProcess;
  let clients: PreparedClients;
  beforeAll(async () => {
    clients = await prepareClients(['c', 'lean']);
    server = await startTstan([]);
  });
  afterAll(async () => {
    if (server) await server.stop();
    clients?.dispose();
  });

  it.skipIf(withoutC)('builds both clients here (cc and libnats-dev are installed)', () => {
    expect(clients.skipped).toEqual([]);
    expect(clients.programs.map((p) => p.kind)).toEqual(['c', 'lean']);
  });

  // Both clients share one server: the second finds the first's messages on each channel and must
  // skip them (each run marks its own messages with a nonce).
  for (const kind of ['c', 'lean'] as const) {
    for (const workload of WORKLOADS) {
      it.skipIf(kind === 'c' && withoutC)(`${kind} runs ${workload}: every message acknowledged and delivered in order`, async () => {
        const program = clients.programs.find((p) => p.kind === kind)!;
        const count = COUNTS[workload];
        const marks: string[] = [];
        const run = await runClient(program, `nats://127.0.0.1:${server.port}`, workload, count, `t-${kind}`, TIMEOUT_SEC, (m) => marks.push(m));
        expectComplete(run, workload, count, marks);
      }, (TIMEOUT_SEC + 30) * 1000);
    }
  }
});

// The same C client against Debian's nats-server with JetStream, as `npm run bench` runs it beside
// tstan for scale: every workload on both storages, with the same checks (nothing missing,
// duplicated or out of order), and the bench driver puts the rows in its table.
const withoutJetStream = withoutC || skipWithout('nats-server');

describe.skipIf(withoutJetStream)('benchmark C client against nats-server JetStream', () => {
  let clients: PreparedClients;
  beforeAll(async () => {
    clients = await prepareClients(['c']);
  });
  afterAll(() => clients?.dispose());

  for (const store of ['MEMORY', 'FILE'] as const) {
    for (const workload of WORKLOADS) {
      it(`${workload} on ${store === 'FILE' ? 'file' : 'memory'} storage: every message acknowledged and delivered in order`, async () => {
        const config = jetStreamConfig(store, natsServerVersion()!);
        const deployment = await config.start(serverBuild(ownRoot()));
        try {
          const count = COUNTS[workload];
          const marks: string[] = [];
          const program = clients.programs[0]!;
          const run = await runClient(program, deployment.url, workload, count, 't-js', TIMEOUT_SEC, (m) => marks.push(m), config.clientArgs);
          expectComplete(run, workload, count, marks);
          expect((run.result as unknown as Record<string, unknown>)['jetstream']).toBe(store === 'FILE' ? 'file' : 'memory');
          expect(deployment.nodes[0]!.peakRssMb()).toBeGreaterThan(0);
        } finally {
          await deployment.stop();
        }
      }, (TIMEOUT_SEC + 30) * 1000);
    }
  }

  it('the STAN suite runs JetStream rows beside tstan, only with the C client, says they have no reference, and measures W2 warm too', async () => {
    const rows = await runStanBench({ print: false, runs: 1, scale: 0.01, stores: ['MEMORY'], workloads: ['W2'], clients: ['c', 'lean'] });
    expect(rows.map((row) => `${String(row['configKey'])} ${String(row['clientKind'])}`)).toEqual(['MEMORY c', 'MEMORY lean', 'jetstream-MEMORY c']);
    const jetstream = rows[2]!;
    expect(jetstream['runs']).toBe(1);
    expect(jetstream['failedRuns']).toBe(0);
    expect(String(jetstream['config'])).toMatch(/^nats-server \d+\.\d+\.\d+ JetStream, memory storage$/);
    expect(jetstream['reference']).toBe('none: not a STAN server, run for scale');
    expect(Number(jetstream['p50Ms'])).toBeGreaterThan(0);
    // W2 also runs on the warm server, after the measured run, for each server.
    for (const row of rows) expect(Number(row['warmP99Ms'])).toBeGreaterThanOrEqual(Number(row['warmP50Ms']));
    expect(Number(jetstream['warmP50Ms'])).toBeGreaterThan(0);
  }, 120_000);
});
