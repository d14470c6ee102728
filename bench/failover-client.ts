// The publisher of the failover benchmark (bench/failover.ts), on the lean client: publishes
// async 128-byte messages at a steady rate with at most `window` PubAcks outstanding, for
// `duration` seconds, then waits until every message is acknowledged. A publish unacknowledged
// after `ack-timeout-ms`, or refused, is published again (its fate may be unknown: the leader
// that took it may have died), as an application would; a later ack of the first attempt still
// counts. Records every gap between consecutive acks above `gap-report-ms` with its times (epoch
// ms, so the driver can place them against the moment it hit the leader). At the end it reads the
// channel back: which messages it holds twice, and whether an attempt the server refused with an
// error PubAck was stored after all (each payload carries its message index and attempt number).
// node dist/bench/failover-client.js --url nats://127.0.0.1:4222 --duration-s 10 --rate 5000
// Prints "MARK start" once its warm-up publish is acknowledged, then one JSON line at the end.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLUSTER_ID, MSG_BYTES } from './client-result.js';
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
  /** Read back at the end: messages the channel holds (warm-up excluded). */
  readonly storedMessages: number;
  /** Copies beyond the first of a message: both attempts committed. */
  readonly storedTwice: number;
  /** Stored copies of attempts that got an error PubAck: the server said no, yet it committed. */
  readonly refusedButStored: number;
  /** Acknowledged messages the channel does not hold: lost. */
  readonly ackedButMissing: number;
  /** Every gap above gapReportMs, epoch ms, in order (at most GAPS_KEPT). */
  readonly gaps: AckGap[];
  readonly clientCpuSec: number;
  readonly seconds: number;
}

const GAPS_KEPT = 100;
const TICK_MS = 5;
/** Attempts of one message are numbered in one byte of the payload. */
const ATTEMPTS_MAX = 256;
const WARM_UP_INDEX = 0xffffffff;
/** Reading back ends when nothing came for this long. */
const READ_BACK_IDLE_MS = 2_000;
const READ_BACK_MAX_MS = 30_000;

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
  /** Outstanding publishes: publish number → attempt (index × ATTEMPTS_MAX + attempt number), and when each was sent. */
  private readonly attemptOf = new Map<number, number>();
  private readonly sentAtMs = new Map<number, number>();
  /** Attempts given up (republished): their ack may still come, and then counts. */
  private readonly timedOut = new Map<number, number>();
  /** Attempt numbers used so far, for messages sent more than once. */
  private readonly attemptsOf = new Map<number, number>();
  readonly refusedAttempts = new Set<number>();
  readonly acked = new Set<number>();
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
    let attempt = this.attemptOf.get(publishNumber);
    if (attempt !== undefined) {
      this.attemptOf.delete(publishNumber);
      this.sentAtMs.delete(publishNumber);
    } else {
      attempt = this.timedOut.get(publishNumber);
      if (attempt === undefined) return; // the warm-up
      this.timedOut.delete(publishNumber);
    }
    const index = Math.floor(attempt / ATTEMPTS_MAX);
    if (error !== '') {
      this.errors++;
      this.refusedAttempts.add(attempt);
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

  private send(index: number, attemptNumber: number): void {
    this.payload.writeUInt32LE(index, 8);
    this.payload.writeUInt8(attemptNumber, 12);
    const publishNumber = this.publisher.publish(this.payload);
    this.attemptOf.set(publishNumber, index * ATTEMPTS_MAX + attemptNumber);
    this.sentAtMs.set(publishNumber, performance.now());
  }

  private republish(index: number): void {
    if (this.acked.has(index)) return;
    const attemptNumber = (this.attemptsOf.get(index) ?? 0) + 1;
    if (attemptNumber >= ATTEMPTS_MAX) throw new Error(`message ${index}: ${ATTEMPTS_MAX} attempts`);
    this.attemptsOf.set(index, attemptNumber);
    this.republished++;
    this.send(index, attemptNumber);
  }

  /** Publishes what the rate allows by `elapsedMs` (and the window lets), republishes what timed out. */
  tick(elapsedMs: number, publishing: boolean): void {
    const now = performance.now();
    // Map iteration follows insertion order: the oldest attempts come first.
    for (const [publishNumber, sentMs] of this.sentAtMs) {
      if (now - sentMs < this.args.ackTimeoutMs) break;
      const attempt = this.attemptOf.get(publishNumber)!;
      this.attemptOf.delete(publishNumber);
      this.sentAtMs.delete(publishNumber);
      this.timedOut.set(publishNumber, attempt);
      this.republish(Math.floor(attempt / ATTEMPTS_MAX));
    }
    if (!publishing) return;
    const due = this.args.rate > 0 ? Math.floor((elapsedMs * this.args.rate) / 1000) : Number.MAX_SAFE_INTEGER;
    while (this.nextIndex < due && this.attemptOf.size < this.args.window) this.send(this.nextIndex++, 0);
  }

  get messages(): number {
    return this.nextIndex;
  }

  get done(): boolean {
    return this.acked.size === this.nextIndex;
  }

  /** `cpuUsed`: process.cpuUsage(start) when the publishing ended. */
  result(status: string, cpuUsed: NodeJS.CpuUsage, seconds: number, readBack: ReadBack): FailoverClientResult {
    return {
      ...readBack,
      status,
      messages: this.nextIndex,
      acked: this.acked.size,
      republished: this.republished,
      ackErrors: this.errors,
      duplicateAcks: this.duplicates,
      longestAckGapMs: Math.round(this.longestGapMs),
      gaps: this.gaps.map((gap) => ({ fromMs: Math.round(gap.fromMs), toMs: Math.round(gap.toMs) })),
      clientCpuSec: (cpuUsed.user + cpuUsed.system) / 1e6,
      seconds,
    };
  }
}

type ReadBack = Pick<FailoverClientResult, 'storedMessages' | 'storedTwice' | 'refusedButStored' | 'ackedButMissing'>;

/**
 * Reads the whole channel back on a subscription of its own (until nothing came for two seconds) and
 * holds it against what the publisher saw: copies per message, stored attempts that were refused.
 */
async function readBack(client: LeanStanClient, steady: SteadyPublisher, messages: number): Promise<ReadBack> {
  const copies = new Uint16Array(messages);
  let refusedButStored = 0;
  let lastAt = performance.now();
  await client.subscribe('failover', { deliverAllAvailable: true, maxInFlight: 16_384 }, (_seq, buf, start, end) => {
    lastAt = performance.now();
    if (end - start < 16) return;
    const index = buf.readUInt32LE(start + 8);
    if (index === WARM_UP_INDEX || index >= messages) return;
    copies[index]!++;
    if (steady.refusedAttempts.has(index * ATTEMPTS_MAX + buf.readUInt8(start + 12))) refusedButStored++;
  });
  const deadline = performance.now() + READ_BACK_MAX_MS;
  while (performance.now() - lastAt < READ_BACK_IDLE_MS && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  let storedMessages = 0;
  let storedTwice = 0;
  let ackedButMissing = 0;
  copies.forEach((count, index) => {
    storedMessages += count;
    if (count > 1) storedTwice += count - 1;
    if (count === 0 && steady.acked.has(index)) ackedButMissing++;
  });
  return { storedMessages, storedTwice, refusedButStored, ackedButMissing };
}

function warmUp(client: LeanStanClient, publisher: LeanPublisher, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('warm-up publish: no PubAck')), timeoutMs);
    const payload = Buffer.alloc(MSG_BYTES);
    payload.writeUInt32LE(WARM_UP_INDEX, 8);
    const expected = publisher.publish(payload);
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
    let status = '';
    let elapsed = 0;
    while (status === '') {
      elapsed = performance.now() - start;
      if (lost !== undefined) status = `connection lost: ${lost.message}`;
      else if (elapsed >= endMs && steady.done) status = 'OK';
      else if (elapsed >= drainEndMs) status = 'TIMEOUT';
      else {
        steady.tick(elapsed, elapsed < endMs);
        await new Promise((resolve) => setTimeout(resolve, TICK_MS));
      }
    }
    const cpuUsed = process.cpuUsage(cpu);
    const stored = lost === undefined ? await readBack(client, steady, steady.messages) : { storedMessages: Number.NaN, storedTwice: Number.NaN, refusedButStored: Number.NaN, ackedButMissing: Number.NaN };
    return steady.result(status, cpuUsed, elapsed / 1000, stored);
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
