// W1-W4 as the TypeScript client programs run them, over any STAN client behind BenchConnection
// (the lean client, node-nats-streaming): the same windowing, timing, order checks and JSON result
// as bench/c/stan-bench.c. Publisher and subscribers share this process and its clock.
import {
  DeliveryCheck,
  WARM_UP_INDEX,
  ownCpuSeconds,
  ownPeakRssMb,
  percentile,
  runNonce,
  stampPayload,
  type ClientArgs,
  type ClientResult,
} from './client-result.js';

/** What a workload needs of a STAN client connection. */
export interface BenchConnection {
  /**
   * Publishes `payload`, copied or encoded before returning; returns its publish number. Publish
   * numbers are consecutive per connection.
   */
  publish(channel: string, payload: Buffer): number;
  /** Every PubAck, by the publish number publish() returned; `error` '' on success. */
  onPubAck: (publishNumber: number, error: string) => void;
  /** A lost connection: the workload fails. */
  onError: (error: Error) => void;
  /** Subscribes from the first available message with auto-ack; resolves once subscribed. */
  subscribeAll(channel: string, onMessage: (seq: number, buf: Buffer, start: number, end: number, redelivered: boolean) => void): Promise<void>;
  close(): Promise<void>;
}

export type Connector = (clientId: string) => Promise<BenchConnection>;

interface AckStats {
  status: string;
  acked: number;
  errors: number;
  duplicates: number;
  lastAckMs: number;
  /** Ack latencies, ascending. */
  latencyMs: Float64Array;
}

/** Publishes `count` messages keeping at most `window` unacknowledged; settles when all are acked. */
function publishWindowed(conn: BenchConnection, channel: string, payload: Buffer, args: ClientArgs, window: number, nonce: number): Promise<AckStats> {
  const count = args.count;
  const sentMs = new Float64Array(count);
  const latencyMs = new Float64Array(count);
  const seen = new Uint8Array(count);
  /** Publish numbers are consecutive per connection: index = publish number - base. */
  let base = -1;
  let sent = 0;
  let outstanding = 0;
  const stats: AckStats = { status: 'OK', acked: 0, errors: 0, duplicates: 0, lastAckMs: 0, latencyMs };
  return new Promise((resolve) => {
    const finish = (status: string): void => {
      clearTimeout(timer);
      conn.onPubAck = () => {};
      stats.status = status;
      stats.latencyMs = latencyMs.subarray(0, stats.acked).sort();
      resolve(stats);
    };
    const timer = setTimeout(() => finish('TIMEOUT'), args.timeoutSec * 1000);
    const publishOne = (): void => {
      const index = sent++;
      const now = performance.now();
      stampPayload(payload, index, nonce, now);
      sentMs[index] = now;
      outstanding++;
      const publishNumber = conn.publish(channel, payload);
      if (index === 0) base = publishNumber;
    };
    conn.onError = (error) => finish(`connection lost: ${error.message}`);
    conn.onPubAck = (publishNumber, error) => {
      const index = publishNumber - base;
      if (base < 0 || index < 0 || index >= count) return; // not a timed publish
      const now = performance.now();
      if (error !== '') stats.errors++;
      else if (seen[index] === 1) stats.duplicates++;
      else {
        seen[index] = 1;
        latencyMs[stats.acked++] = now - sentMs[index]!;
      }
      stats.lastAckMs = now;
      outstanding--;
      if (sent < count) publishOne();
      else if (outstanding === 0) finish('OK');
    };
    for (let i = 0; i < Math.min(window, count); i++) publishOne();
  });
}

/** One publish and its ack, before anything is timed: the server answers and the channel exists. */
function warmUp(conn: BenchConnection, channel: string, payload: Buffer, nonce: number, timeoutSec: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('warm-up publish: no PubAck')), timeoutSec * 1000);
    conn.onError = reject;
    stampPayload(payload, WARM_UP_INDEX, nonce, performance.now());
    const expected = conn.publish(channel, payload);
    conn.onPubAck = (publishNumber, error) => {
      if (publishNumber !== expected) return;
      clearTimeout(timer);
      conn.onPubAck = () => {};
      if (error === '') resolve();
      else reject(new Error(`warm-up publish refused: ${error}`));
    };
  });
}

/** Brackets the timed interval for the driver, which reads the server's CPU at each mark. */
function mark(what: 'start' | 'end'): void {
  process.stdout.write(`MARK ${what}\n`);
}

function common(client: string, args: ClientArgs, seconds: number, cpu: NodeJS.CpuUsage, status: string) {
  return {
    client,
    workload: args.workload,
    messages: args.count,
    seconds,
    msgsPerSec: seconds > 0 ? args.count / seconds : 0,
    clientCpuSec: ownCpuSeconds(cpu),
    clientPeakRssMb: ownPeakRssMb(),
    status,
  };
}

function ackFields(stats: AckStats) {
  return {
    acked: stats.acked,
    ackErrors: stats.errors,
    duplicateAcks: stats.duplicates,
    ackP50Ms: percentile(stats.latencyMs, 50),
    ackP99Ms: percentile(stats.latencyMs, 99),
  };
}

async function runW1(client: string, args: ClientArgs, conn: BenchConnection, payload: Buffer, nonce: number): Promise<ClientResult> {
  mark('start');
  const cpu = process.cpuUsage();
  const start = performance.now();
  const stats = await publishWindowed(conn, 'w1', payload, args, args.window, nonce);
  mark('end');
  return { ...common(client, args, (stats.lastAckMs - start) / 1000, cpu, stats.status), ...ackFields(stats) };
}

/** Sync publish: each publish waits for its PubAck (the next one starts in the ack handler). */
async function runW2(client: string, args: ClientArgs, conn: BenchConnection, payload: Buffer, nonce: number): Promise<ClientResult> {
  mark('start');
  const cpu = process.cpuUsage();
  const start = performance.now();
  const stats = await publishWindowed(conn, 'w2', payload, args, 1, nonce);
  const seconds = (performance.now() - start) / 1000;
  mark('end');
  const latency = stats.latencyMs;
  return {
    ...common(client, args, seconds, cpu, stats.status),
    acked: stats.acked,
    ackErrors: stats.errors,
    duplicateAcks: stats.duplicates,
    p50Ms: percentile(latency, 50),
    p90Ms: percentile(latency, 90),
    p99Ms: percentile(latency, 99),
    maxMs: latency.length > 0 ? latency[latency.length - 1]! : 0,
  };
}

/** W3/W4: subscribers on their own connections, subscribed first, then one windowed publisher. */
async function runFanOut(client: string, args: ClientArgs, connector: Connector, publisher: BenchConnection, payload: Buffer, nonce: number): Promise<ClientResult> {
  const channel = args.workload.toLowerCase();
  const e2eMs: number[] = [];
  const checks: DeliveryCheck[] = [];
  const subscribers: BenchConnection[] = [];
  let done = 0;
  let allDone = (): void => {};
  const allReceived = new Promise<void>((resolve) => (allDone = resolve));
  try {
    for (let s = 0; s < args.subs; s++) {
      const conn = await connector(`${args.id}-${channel}-sub-${s}`);
      subscribers.push(conn);
      const check = new DeliveryCheck(nonce, args.count + 1, e2eMs);
      checks.push(check);
      await conn.subscribeAll(channel, (seq, buf, start, end, redelivered) => {
        if (check.onMessage(seq, buf, start, end - start, redelivered) && ++done === args.subs) allDone();
      });
    }
    mark('start');
    const cpu = process.cpuUsage();
    const start = performance.now();
    const stats = await publishWindowed(publisher, channel, payload, args, args.window, nonce);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), args.timeoutSec * 1000)));
    const late = await Promise.race([allReceived.then(() => false), timedOut]);
    clearTimeout(timer);
    mark('end');
    const end = Math.max(start, ...checks.map((c) => c.doneAtMs));
    const seconds = (end - start) / 1000;
    e2eMs.sort((a, b) => a - b);
    const status = stats.status !== 'OK' ? stats.status : late ? 'TIMEOUT' : 'OK';
    return {
      ...common(client, args, seconds, cpu, status),
      ...ackFields(stats),
      subscribers: args.subs,
      received: checks.reduce((sum, c) => sum + Math.max(0, c.received - 1), 0),
      outOfOrder: checks.reduce((sum, c) => sum + c.outOfOrder, 0),
      redelivered: checks.reduce((sum, c) => sum + c.redelivered, 0),
      deliveredPerSec: seconds > 0 ? (args.count * args.subs) / seconds : 0,
      e2eP50Ms: percentile(e2eMs, 50),
      e2eP99Ms: percentile(e2eMs, 99),
    };
  } finally {
    for (const conn of subscribers) await conn.close();
  }
}

/** Runs `args.workload` with connections from `connector`; the result is the JSON line to print. */
export async function runClientWorkload(client: string, args: ClientArgs, connector: Connector): Promise<ClientResult> {
  const channel = args.workload.toLowerCase();
  const nonce = runNonce();
  const payload = Buffer.alloc(args.sizeBytes);
  const publisher = await connector(`${args.id}-${channel}-pub`);
  try {
    await warmUp(publisher, channel, payload, nonce, args.timeoutSec);
    switch (args.workload) {
      case 'W1':
        return await runW1(client, args, publisher, payload, nonce);
      case 'W2':
        return await runW2(client, args, publisher, payload, nonce);
      case 'W3':
      case 'W4':
        return await runFanOut(client, args, connector, publisher, payload, nonce);
    }
  } finally {
    await publisher.close();
  }
}

/** The body of a client program: parse, run, print one JSON line, exit 1 on a missing message. */
export async function clientMain(client: string, args: ClientArgs, connector: Connector, problems: (result: ClientResult) => string[]): Promise<void> {
  const result = await runClientWorkload(client, args, connector);
  process.stdout.write(JSON.stringify(result) + '\n');
  const found = problems(result);
  if (found.length > 0) process.stderr.write(`${client} ${args.workload}: ${found.join('; ')}\n`);
  process.exitCode = found.length > 0 ? 1 : 0;
}
