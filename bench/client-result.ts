// What every benchmark client program shares: its command line (the C program takes the same
// flags), the payload layout, the JSON line it prints and the checks that say whether every
// message and ack arrived. A client runs one workload in its own process, so its CPU is its own.

export const WORKLOADS = ['W1', 'W2', 'W3', 'W4'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export const CLIENT_KINDS = ['c', 'lean', 'node'] as const;
/** c: libnats (bench/c/stan-bench.c); lean: bench/lean-stan-client.ts; node: node-nats-streaming. */
export type ClientKind = (typeof CLIENT_KINDS)[number];

export interface ClientArgs {
  readonly url: string;
  readonly cluster: string;
  readonly workload: WorkloadName;
  readonly count: number;
  /** Subscribers of W3/W4 (1 and 10 unless given). */
  readonly subs: number;
  /** PubAcks outstanding at most. */
  readonly window: number;
  readonly sizeBytes: number;
  readonly timeoutSec: number;
  /** Prefix of the client IDs. */
  readonly id: string;
}

/** The JSON line a client prints; fields beyond the common ones depend on the workload. */
export interface ClientResult {
  readonly client: string;
  readonly workload: WorkloadName;
  readonly messages: number;
  readonly seconds: number;
  readonly msgsPerSec: number;
  readonly clientCpuSec: number;
  readonly clientPeakRssMb: number;
  readonly acked: number;
  readonly status: string;
  readonly error?: string;
  // W1, W3, W4
  readonly ackErrors?: number;
  readonly duplicateAcks?: number;
  readonly ackP50Ms?: number;
  readonly ackP99Ms?: number;
  // W2
  readonly p50Ms?: number;
  readonly p90Ms?: number;
  readonly p99Ms?: number;
  readonly maxMs?: number;
  // W3, W4
  readonly subscribers?: number;
  readonly received?: number;
  readonly outOfOrder?: number;
  readonly redelivered?: number;
  readonly deliveredPerSec?: number;
  readonly e2eP50Ms?: number;
  readonly e2eP99Ms?: number;
}

export const MSG_BYTES = 128;
export const PUB_ACK_WINDOW = 16_384;
export const CLUSTER_ID = 'test-cluster';
/** The warm-up publish carries this index; the timed ones 0, 1, ... */
export const WARM_UP_INDEX = 0xffffffff;
/** Bytes 0-7 send time, 8-11 index, 12-15 the run's nonce (see stampPayload). */
export const PAYLOAD_HEADER_BYTES = 16;

/** Message counts of the workloads at scale 1. */
export function messageCount(workload: WorkloadName, scale: number): number {
  const full = { W1: 100_000, W2: 5_000, W3: 100_000, W4: 20_000 }[workload];
  return Math.max(1, Math.round(full * scale));
}

function flagValue(argv: readonly string[], name: string): string | undefined {
  const index = argv.indexOf(`--${name}`);
  return index >= 0 ? argv[index + 1] : undefined;
}

function intFlag(argv: readonly string[], name: string, fallback: number): number {
  const text = flagValue(argv, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return value;
}

/** The flags of stan-bench.c: --url --workload --count [--cluster --subs --window --size --timeout-s --id]. */
export function parseClientArgs(argv: readonly string[]): ClientArgs {
  const workload = flagValue(argv, 'workload') as WorkloadName | undefined;
  if (workload === undefined || !WORKLOADS.includes(workload)) throw new Error(`--workload must be one of ${WORKLOADS.join(', ')}`);
  const sizeBytes = intFlag(argv, 'size', MSG_BYTES);
  if (sizeBytes < PAYLOAD_HEADER_BYTES) throw new Error(`--size must be at least ${PAYLOAD_HEADER_BYTES}`);
  return {
    url: flagValue(argv, 'url') ?? 'nats://127.0.0.1:4222',
    cluster: flagValue(argv, 'cluster') ?? CLUSTER_ID,
    workload,
    count: intFlag(argv, 'count', 0),
    subs: intFlag(argv, 'subs', workload === 'W4' ? 10 : 1),
    window: intFlag(argv, 'window', PUB_ACK_WINDOW),
    sizeBytes,
    timeoutSec: intFlag(argv, 'timeout-s', 120),
    id: flagValue(argv, 'id') ?? 'bench',
  };
}

/** The flags for a client program running `workload` with `count` messages against `url`. */
export function clientArgv(url: string, workload: WorkloadName, count: number, id: string): string[] {
  return ['--url', url, '--cluster', CLUSTER_ID, '--workload', workload, '--count', String(count), '--id', id];
}

/** Rank percentile of an ascending array, as all three clients compute it. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A random 32-bit nonce that marks this run's messages (a channel may hold an earlier run's). */
export function runNonce(): number {
  return (Math.random() * 0x1_0000_0000) >>> 0;
}

/** Writes the send time (`sentAtMs`, a performance.now() reading), index and nonce into `payload`. */
export function stampPayload(payload: Buffer, index: number, nonce: number, sentAtMs: number): void {
  payload.writeDoubleLE(performance.timeOrigin + sentAtMs, 0);
  payload.writeUInt32LE(index, 8);
  payload.writeUInt32LE(nonce, 12);
}

/**
 * Checks a subscriber's deliveries: this run's messages (by nonce) must come as one gapless run
 * of sequences, the warm-up first, then indexes 0, 1, ... Shared by the TypeScript clients.
 */
export class DeliveryCheck {
  received = 0;
  outOfOrder = 0;
  redelivered = 0;
  doneAtMs = 0;
  private nextSeq = 0;
  private nextIndex = 0;

  constructor(
    private readonly nonce: number,
    readonly expected: number,
    private readonly e2eMs: number[] | null,
  ) {}

  /** Counts the delivery of `length` bytes at `offset` in `buf`; true when this subscriber has all. */
  onMessage(seq: number, buf: Buffer, offset: number, length: number, redelivered: boolean): boolean {
    if (length < PAYLOAD_HEADER_BYTES || buf.readUInt32LE(offset + 12) !== this.nonce) return false;
    const index = buf.readUInt32LE(offset + 8);
    if (redelivered) this.redelivered++;
    if (this.received === 0) {
      if (index !== WARM_UP_INDEX) this.outOfOrder++;
    } else {
      if (seq !== this.nextSeq || index !== this.nextIndex) this.outOfOrder++;
      this.nextIndex = index + 1;
      if (this.e2eMs !== null) this.e2eMs.push(performance.timeOrigin + performance.now() - buf.readDoubleLE(offset));
    }
    this.nextSeq = seq + 1;
    this.received++;
    if (this.received !== this.expected) return false;
    this.doneAtMs = performance.now();
    return true;
  }
}

/** CPU seconds and peak RSS of this process since `before` (a process.cpuUsage() reading). */
export function ownCpuSeconds(before: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
}

export function ownPeakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** What is wrong with a client's result: empty when every message and ack arrived, in order. */
export function resultProblems(result: ClientResult, expectedMessages: number): string[] {
  const problems: string[] = [];
  if (result.error !== undefined) problems.push(`client error: ${result.error}`);
  if (result.status !== 'OK') problems.push(`status ${result.status}`);
  if (result.messages !== expectedMessages) problems.push(`ran ${result.messages} messages, expected ${expectedMessages}`);
  if (result.acked !== expectedMessages) problems.push(`${result.acked} of ${expectedMessages} publishes acknowledged`);
  if ((result.ackErrors ?? 0) > 0) problems.push(`${result.ackErrors} PubAcks with an error`);
  if ((result.duplicateAcks ?? 0) > 0) problems.push(`${result.duplicateAcks} duplicate PubAcks`);
  if (result.workload === 'W3' || result.workload === 'W4') {
    const subscribers = result.subscribers ?? 0;
    if (result.received !== expectedMessages * subscribers) {
      problems.push(`${result.received} of ${expectedMessages * subscribers} deliveries to ${subscribers} subscribers`);
    }
    if ((result.outOfOrder ?? 0) > 0) problems.push(`${result.outOfOrder} deliveries out of order`);
  }
  if (!(result.msgsPerSec > 0)) problems.push('no throughput measured');
  return problems;
}

/** Parses the last JSON line of a client's output. */
export function parseClientOutput(stdout: string): ClientResult {
  const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (line === undefined) throw new Error(`client printed no result: ${stdout.slice(-500)}`);
  return JSON.parse(line) as ClientResult;
}
