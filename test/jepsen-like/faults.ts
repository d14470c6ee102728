// The nemesis for process faults (docs/testing.md §5.2): SIGKILL and restart on the same directory,
// SIGSTOP/SIGCONT, graceful restart, and a consumer crash (a subscriber's connection dropped with
// a batch unacknowledged, then the same durable resumes). Each fault's start and end go into the
// history as `fault` operations of the `nemesis` process, on the harness's monotonic clock.
import type { HistoryRecorder } from './history.js';
import type { TstanNode } from './tstan-node.js';
import type { Subscriber } from './workload-clients.js';

const NEMESIS = 'nemesis';
const POLL_MS = 20;
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface FaultEvent {
  readonly kind: string;
  readonly node: string;
  readonly startNs: number;
  readonly endNs: number;
  /** What exactly was done (the links blocked, the bytes cut...), for the report. */
  readonly detail?: string;
}

export class Nemesis {
  readonly events: FaultEvent[] = [];

  constructor(protected readonly history: HistoryRecorder) {}

  protected begin(kind: string, node: string): number {
    return this.history.record({ proc: NEMESIS, type: 'invoke', f: 'fault', value: kind, node }).tMonoNs;
  }

  protected end(kind: string, node: string, startNs: number, error?: string, detail?: string): void {
    const op = this.history.record({ proc: NEMESIS, type: error === undefined ? 'ok' : 'info', f: 'fault', value: kind, node, ...(error === undefined ? {} : { error }) });
    this.events.push({ kind, node, startNs, endNs: op.tMonoNs, ...(detail === undefined ? {} : { detail }) });
  }

  /** SIGKILL, stay down `downMs`, start again on the same data directory. */
  async killAndRestart(node: TstanNode, downMs: number): Promise<void> {
    const startNs = this.begin('kill-9', node.spec.name);
    node.signal('SIGKILL');
    await node.waitExit();
    await delay(downMs);
    await node.start();
    this.end('kill-9', node.spec.name, startNs);
  }

  /** SIGSTOP for `pauseMs`, then SIGCONT: a GC or VM stall. */
  async pause(node: TstanNode, pauseMs: number): Promise<void> {
    const startNs = this.begin('pause', node.spec.name);
    node.signal('SIGSTOP');
    await delay(pauseMs);
    node.signal('SIGCONT');
    this.end('pause', node.spec.name, startNs);
  }

  /** SIGSTOP for `pauseMs`, SIGKILL while stopped, stay down `downMs`, start again. */
  async pauseThenKill(node: TstanNode, pauseMs: number, downMs: number): Promise<void> {
    const startNs = this.begin('pause-kill', node.spec.name);
    node.signal('SIGSTOP');
    await delay(pauseMs);
    node.signal('SIGKILL');
    await node.waitExit();
    await delay(downMs);
    await node.start();
    this.end('pause-kill', node.spec.name, startNs);
  }

  /** SIGTERM, wait for the exit, start again. */
  async gracefulRestart(node: TstanNode): Promise<void> {
    const startNs = this.begin('graceful-restart', node.spec.name);
    await node.stop();
    await node.start();
    this.end('graceful-restart', node.spec.name, startNs);
  }

  /**
   * Holds the subscriber's acks until `unackedMin` deliveries are pending (or `holdMaxMs` passed),
   * then drops its connection mid-batch; it reconnects under the same client ID and durable.
   */
  async crashConsumer(subscriber: Subscriber, unackedMin: number, holdMaxMs: number): Promise<void> {
    const startNs = this.begin('consumer-crash', subscriber.spec.proc);
    subscriber.holdAcks = true;
    const deadline = Date.now() + holdMaxMs;
    while (subscriber.held.length < unackedMin && Date.now() < deadline) await delay(POLL_MS);
    const unacked = subscriber.held.length;
    subscriber.crash();
    this.end('consumer-crash', subscriber.spec.proc, startNs, unacked >= unackedMin ? undefined : `only ${unacked} unacknowledged at the crash`);
  }
}
