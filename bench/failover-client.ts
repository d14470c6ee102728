// The publisher of the failover benchmark (bench/failover.ts), on the lean client: publishes
// async 128-byte messages at a steady rate with at most `window` PubAcks outstanding, for
// `duration` seconds, then waits until every message is acknowledged. A publish unacknowledged
// after `ack-timeout-ms`, or refused, is published again (its fate may be unknown: the leader
// that took it may have died), as an application would; a later ack of the first attempt still
// counts. Records every gap between consecutive acks above `gap-report-ms` with its times (epoch
// ms, so the driver can place them against the moment it hit the leader).
// node dist/bench/failover-client.js --url nats://127.0.0.1:4222 --duration-s 10 --rate 5000
// Prints "MARK start" once its warm-up publish is acknowledged, then one JSON line at the end.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLUSTER_ID, MSG_BYTES, ownCpuSeconds } from './client-result.js';
import { LeanStanClient, type LeanPublisher } from './lean-stan-client.js';

export interface FailoverClientArgs {
  readonly url: string;
  readonly cluster: string;
  readonly durationSec: number;
  /** Publishes per second; 0 for as fast as the window lets. */
  readonly rate: number;
  readonly window: number;
  readonly ackTimeoutMs: number;
  readonly gapReportMs: number;
  /** Gives up waiting for the last acks this long after the publishing ends. */
  readonly drainTimeoutSec: number;
}

export interface AckGap {
  readonly fromMs: number;
  readonly toMs: number;
}

export interface FailoverClientResult {
  readonly status: string;
  /** Distinct messages published (republishes not counted). */
  readonly messages: number;
  /** Distinct messages acknowledged. */
  readonly acked: number;
  /** Publishes sent again after a timeout or an error PubAck. */
  readonly republished: number;
  readonly ackErrors: number;
  /** Acks of a message already acknowledged (both attempts were stored). */
  readonly duplicateAcks: number;
  readonly longestAckGapMs: number;
  /** Every gap above gapReportMs, epoch ms, in order (at most GAPS_KEPT). */
  readonly gaps: AckGap[];
  readonly clientCpuSec: number;
  readonly seconds: number;
}

const GAPS_KEPT = 100;
const TICK_MS = 5;

function flag(argv: readonly string[], name: string, fallback: number): number {
  const index = argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(argv[index + 1]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number ≥ 0, got ${argv[index + 1]}`);
  return value;
}

export function parseFailoverClientArgs(argv: readonly string[]): FailoverClientArgs {
  const text = (name: string, fallback: string): string => {
    const index = argv.indexOf(`--${name}`);
    return index >= 0 ? (argv[index + 1] ?? fallback) : fallback;
  };
  return {
    url: text('url', 'nats://127.0.0.1:4222'),
    cluster: text('cluster', CLUSTER_ID),
    durationSec: flag(argv, 'duration-s', 10),
    rate: flag(argv, 'rate', 5_000),
    window: Math.max(1, flag(argv, 'window', 16_384)),
    ackTimeoutMs: Math.max(1, flag(argv, 'ack-timeout-ms', 2_000)),
    gapReportMs: flag(argv, 'gap-report-ms', 100),
    drainTimeoutSec: flag(argv, 'drain-timeout-s', 60),
  };
}

const nowEpochMs = (): number => performance.timeOrigin + performance.now();

/** The publishing loop and its bookkeeping; one instance per run. */
class SteadyPublisher {
  /** Outstanding publishes: publish number → message index, and when each was sent. */
  private readonly messageOf = new Map<number, number>();
  private readonly sentAtMs = new Map<number, number>();
  /** Attempts given up (republished): their ack may still come, and then counts. */
  private readonly timedOut = new Map<number, number>();
  private readonly acked = new Set<number>();
  private readonly gaps: AckGap[] = [];
  private readonly payload = Buffer.alloc(MSG_BYTES);
  private nextIndex = 0;
  private republished = 0;
  private errors = 0;
  private duplicates = 0;
  private longestGapMs = 0;
  private lastAckMs = nowEpochMs();

  constructor(
    private readonly publisher: LeanPublisher,
    private readonly args: FailoverClientArgs,
  ) {}

  onPubAck(publishNumber: number, error: string): void {
    let index = this.messageOf.get(publishNumber);
    if (index !== undefined) {
      this.messageOf.delete(publishNumber);
      this.sentAtMs.delete(publishNumber);
    } else {
      index = this.timedOut.get(publishNumber);
      if (index === undefined) return; // the warm-up
      this.timedOut.delete(publishNumber);
    }
    if (error !== '') {
      this.errors++;
      this.republish(index);
      return;
    }
    if (this.acked.has(index)) {
      this.duplicates++;
      return;
    }
    this.acked.add(index);
    const now = nowEpochMs();
    const gap = now - this.lastAckMs;
    if (gap > this.longestGapMs) this.longestGapMs = gap;
    if (gap >= this.args.gapReportMs && this.gaps.length < GAPS_KEPT) this.gaps.push({ fromMs: this.lastAckMs, toMs: now });
    this.lastAckMs = now;
  }

  private send(index: number): void {
    this.payload.writeUInt32LE(index, 8);
    const publishNumber = this.publisher.publish(this.payload);
    this.messageOf.set(publishNumber, index);
    this.sentAtMs.set(publishNumber, performance.now());
  }

  private republish(index: number): void {
    if (this.acked.has(index)) return;
    this.republished++;
    this.send(index);
  }

  /** Publishes what the rate allows by `elapsedMs` (and the window lets), republishes what timed out. */
  tick(elapsedMs: number, publishing: boolean): void {
    const now = performance.now();
    // Map iteration follows insertion order: the oldest attempts come first.
    for (const [publishNumber, sentMs] of this.sentAtMs) {
      if (now - sentMs < this.args.ackTimeoutMs) break;
      const index = this.messageOf.get(publishNumber)!;
      this.messageOf.delete(publishNumber);
      this.sentAtMs.delete(publishNumber);
      this.timedOut.set(publishNumber, index);
      this.republish(index);
    }
    if (!publishing) return;
    const due = this.args.rate > 0 ? Math.floor((elapsedMs * this.args.rate) / 1000) : Number.MAX_SAFE_INTEGER;
    while (this.nextIndex < due && this.messageOf.size < this.args.window) this.send(this.nextIndex++);
  }

  get done(): boolean {
    return this.acked.size === this.nextIndex;
  }

  result(status: string, cpu: NodeJS.CpuUsage, seconds: number): FailoverClientResult {
    return {
      status,
      messages: this.nextIndex,
      acked: this.acked.size,
      republished: this.republished,
      ackErrors: this.errors,
      duplicateAcks: this.duplicates,
      longestAckGapMs: Math.round(this.longestGapMs),
      gaps: this.gaps.map((gap) => ({ fromMs: Math.round(gap.fromMs), toMs: Math.round(gap.toMs) })),
      clientCpuSec: ownCpuSeconds(cpu),
      seconds,
    };
  }
}

function warmUp(client: LeanStanClient, publisher: LeanPublisher, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('warm-up publish: no PubAck')), timeoutMs);
    const expected = publisher.publish(Buffer.alloc(MSG_BYTES));
    client.onPubAck = (publishNumber, error) => {
      if (publishNumber !== expected) return;
      clearTimeout(timer);
      if (error === '') resolve();
      else reject(new Error(`warm-up publish refused: ${error}`));
    };
  });
}

export async function runFailoverClient(args: FailoverClientArgs): Promise<FailoverClientResult> {
  const client = await LeanStanClient.connect({ url: args.url, clusterId: args.cluster, clientId: 'failover-publisher', timeoutMs: 10_000 });
  try {
    const publisher = client.publisher('failover');
    await warmUp(client, publisher, 10_000);
    const steady = new SteadyPublisher(publisher, args);
    let lost: Error | undefined;
    client.onPubAck = (publishNumber, error) => steady.onPubAck(publishNumber, error);
    client.onError = (error) => (lost = error);
    process.stdout.write('MARK start\n');
    const cpu = process.cpuUsage();
    const start = performance.now();
    const endMs = args.durationSec * 1000;
    const drainEndMs = endMs + args.drainTimeoutSec * 1000;
    for (;;) {
      const elapsed = performance.now() - start;
      if (lost !== undefined) return steady.result(`connection lost: ${lost.message}`, cpu, elapsed / 1000);
      if (elapsed >= endMs && steady.done) return steady.result('OK', cpu, elapsed / 1000);
      if (elapsed >= drainEndMs) return steady.result('TIMEOUT', cpu, elapsed / 1000);
      steady.tick(elapsed, elapsed < endMs);
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
  } finally {
    await client.close().catch(() => undefined);
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runFailoverClient(parseFailoverClientArgs(process.argv.slice(2))).then(
    (result) => {
      process.stdout.write(JSON.stringify(result) + '\n');
      process.exitCode = result.status === 'OK' ? 0 : 1;
    },
    (error: unknown) => {
      process.stdout.write(JSON.stringify({ status: `error: ${String(error)}` }) + '\n');
      process.exitCode = 1;
    },
  );
}
