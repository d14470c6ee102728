// What a cluster scenario is: its size, extra node flags, a fault schedule run within the fault
// phase, its timing bounds (docs/testing.md §5.6) and any acceptance of its own beyond the checkers
// every scenario runs.
import type { FaultEvent } from '../faults.js';
import type { Figures } from '../figures.js';
import type { HistoryRecorder, Op } from '../history.js';
import type { Random } from '../random.js';
import type { Workload, WorkloadConfig } from '../workload.js';
import type { ChaosCluster } from './chaos-cluster.js';
import type { ClusterFigures } from './cluster-figures.js';
import type { ClusterNemesis } from './nemesis.js';
import type { TraceEvent } from './trace.js';
import type { KnownLogIssue } from './node-logs.js';

export interface ClusterScenarioContext {
  readonly cluster: ChaosCluster;
  readonly nemesis: ClusterNemesis;
  readonly history: HistoryRecorder;
  readonly workload: Workload;
  readonly random: Random;
  readonly phases: { readonly warmupMs: number; readonly faultMs: number };
  /** Resolves `atMs` after the fault phase began (at once if that time has passed). */
  at(atMs: number): Promise<void>;
  /** The leader a majority agrees on, once there is one. */
  leader(): Promise<{ id: string; term: number }>;
  /**
   * Waits until every running node has applied what the leader has committed now, and records
   * how long that took under `label` (e.g. a restarted node catching up).
   */
  measureCatchUp(label: string): Promise<number>;
  /** A finding of the scenario's own checks: the run is invalid for it (safety or required behaviour). */
  fail(reason: string): void;
  /** A figure of this scenario, reported in its JSON row under `notes`. */
  note(name: string, value: unknown): void;
}

/** Targets in ms; a run fails a timing only past `timingSlack` (3) times it. */
export interface TimingBounds {
  readonly newLeaderMs?: number;
  /** Every fault of the run must be followed by a new leader (a leader fault). */
  readonly newLeaderRequired?: boolean;
  readonly longestAckGapMs?: number;
  readonly convergeMs?: number;
  /** Each catch-up the scenario measured (measureCatchUp). */
  readonly catchUpMs?: number;
}

export interface AcceptanceInput {
  readonly figures: Figures;
  readonly cluster: ClusterFigures;
  readonly traces: readonly TraceEvent[];
  readonly faults: readonly FaultEvent[];
  readonly ops: readonly Op[];
  /** The scenario's own figures so far (ctx.note), and a way to add more. */
  readonly notes: Readonly<Record<string, unknown>>;
  note(name: string, value: unknown): void;
}

export interface ClusterScenario {
  readonly name: string;
  /** The scenario's number in docs/testing.md §5.6. */
  readonly number?: number;
  readonly description: string;
  readonly size: 3 | 5;
  readonly args?: readonly string[];
  readonly workload?: Partial<WorkloadConfig>;
  readonly bounds?: TimingBounds;
  /**
   * The scenario measures a loss the configuration allows (e.g. no fsync): lost messages are its
   * figure, not a failure; every other checker still applies.
   */
  readonly measuresLoss?: boolean;
  /** Nodes beyond `size` with links and directories, started only when the scenario adds them. */
  readonly spares?: number;
  /** Each node's data on a tmpfs of its own of this many bytes (the disk-full scenarios). */
  readonly diskBytes?: number;
  /** Environment of one node (e.g. libfaketime), given the run directory. */
  nodeEnv?(id: string, runDir: string): Readonly<Record<string, string>>;
  /** Error lines this scenario provokes on purpose and expects (its acceptance checks them). */
  readonly knownLogIssues?: readonly KnownLogIssue[];
  faults(ctx: ClusterScenarioContext): Promise<void>;
  /** Reasons the run fails beyond the common checkers (safety-relevant only; never timings). */
  accept?(input: AcceptanceInput): string[];
}
