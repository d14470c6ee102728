// Scenarios for one standalone tstan node on the FILE store, and the runner that takes a scenario
// through its phases (docs/testing.md §5.4): start the node and the workload, warm up, run the fault
// schedule within the fault phase, heal, drain, stop everything, check the history. The seed
// decides channel choices, fault times and victims; the report is one JSON row of the figures of docs/testing.md §5.7.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../support/ports.js';
import { checkHistory } from './checkers/check-history.js';
import { Nemesis } from './faults.js';
import { computeFigures, type Figures } from './figures.js';
import { HistoryRecorder } from './history.js';
import { deriveSeed, seededRandom, type Random } from './random.js';
import { TstanNode } from './tstan-node.js';
import { Workload, defaultWorkload, type WorkloadConfig } from './workload.js';

export interface Phases {
  readonly warmupMs: number;
  readonly faultMs: number;
}

export interface ScenarioContext {
  readonly node: TstanNode;
  readonly history: HistoryRecorder;
  readonly nemesis: Nemesis;
  readonly workload: Workload;
  readonly random: Random;
  readonly phases: Phases;
  /** Resolves `atMs` after the fault phase began (at once if that time has passed). */
  at(atMs: number): Promise<void>;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  faults(ctx: ScenarioContext): Promise<void>;
}

/** Load must flow between two kills, or a round tests nothing. */
const UP_BETWEEN_KILLS_MS = 1_000;
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const scenarios: readonly Scenario[] = [
  {
    name: 'baseline',
    description: 'no faults; its publish p99 is the reference',
    faults: async () => {},
  },
  {
    name: 'kill-9',
    description: 'three rounds of SIGKILL, 0.5-1 s down, restart on the same directory; at least 1 s up between rounds',
    faults: async (ctx) => {
      const rounds = 3;
      const slot = ctx.phases.faultMs / rounds;
      for (let round = 0; round < rounds; round++) {
        await ctx.at(round * slot + ctx.random.next() * slot * 0.3);
        await ctx.nemesis.killAndRestart(ctx.node, 500 + ctx.random.int(500));
        await delay(UP_BETWEEN_KILLS_MS);
      }
    },
  },
  {
    name: 'kill-9-rapid',
    description: 'SIGKILL again and again, 0.1-0.4 s down and 0.2-1.5 s up: kills land during recovery and reconnects',
    faults: async (ctx) => {
      const endMs = Date.now() + ctx.phases.faultMs * 0.8;
      while (Date.now() < endMs) {
        await ctx.nemesis.killAndRestart(ctx.node, 100 + ctx.random.int(300));
        await delay(200 + ctx.random.int(1_300));
      }
    },
  },
  {
    name: 'pause-kill',
    description: 'SIGSTOP for 1-2 s, SIGKILL while stopped, restart: publishes queued to a frozen node die with it',
    faults: async (ctx) => {
      for (let round = 0; round < 2; round++) {
        await ctx.at(ctx.phases.faultMs * (0.15 + round * 0.45) + ctx.random.int(1_000));
        await ctx.nemesis.pauseThenKill(ctx.node, 1_000 + ctx.random.int(1_000), 300);
      }
    },
  },
  {
    name: 'pause',
    description: 'SIGSTOP for 3 s (past AckWait and the PubAck timeout), then SIGCONT',
    faults: async (ctx) => {
      await ctx.at(ctx.phases.faultMs * (0.2 + ctx.random.next() * 0.1));
      await ctx.nemesis.pause(ctx.node, Math.min(3_000, ctx.phases.faultMs / 2));
    },
  },
  {
    name: 'graceful-restart',
    description: 'SIGTERM and start again mid-load',
    faults: async (ctx) => {
      await ctx.at(ctx.phases.faultMs * (0.3 + ctx.random.next() * 0.2));
      await ctx.nemesis.gracefulRestart(ctx.node);
    },
  },
  {
    name: 'consumer-crash',
    description: 'scenario 22 of docs/testing.md §5.6, standalone: 10% of acks dropped; a durable and a queue member lose their connection mid-batch and resume',
    faults: async (ctx) => {
      for (const s of ctx.workload.subscribers) s.ackDropProbability = 0.1;
      const channels = ctx.workload.config.channels;
      const channel = channels[ctx.random.int(channels.length)];
      const durable = ctx.workload.subscribers.find((s) => s.channel === channel && s.spec.readerKind === 'durable');
      const member = ctx.workload.subscribers.find((s) => s.channel === channel && s.spec.readerKind === 'queue');
      await ctx.at(ctx.phases.faultMs * 0.25);
      if (durable) await ctx.nemesis.crashConsumer(durable, 32, 1_500);
      await ctx.at(ctx.phases.faultMs * 0.6);
      if (member) await ctx.nemesis.crashConsumer(member, 16, 1_500);
    },
  },
];

export function findScenario(name: string): Scenario {
  const found = scenarios.find((s) => s.name === name);
  if (found === undefined) throw new Error(`unknown scenario ${name}; known: ${scenarios.map((s) => s.name).join(', ')}`);
  return found;
}

export interface RunOptions {
  readonly seed: number;
  /** A directory under which the run's directory (data, logs, history) is made. */
  readonly rootDir: string;
  readonly phases: Phases;
  readonly workload?: Partial<WorkloadConfig>;
  /** The node's store; FILE by default. */
  readonly store?: 'file' | 'memory';
  /** Run tstan from this checkout instead of this one (see NodeSpec.tstanRoot). */
  readonly tstanRoot?: string;
  /** Keep the run directory even when the verdict is valid. */
  readonly keep?: boolean;
}

export interface RunReport {
  readonly scenario: string;
  readonly store: 'file' | 'memory';
  readonly seed: number;
  readonly phases: Phases;
  readonly verdict: 'valid' | 'invalid' | 'error';
  readonly reasons: readonly string[];
  readonly figures: Figures | null;
  readonly nodeLogErrors: number;
  readonly checkerMs: number;
  readonly durationMs: number;
  readonly runDir: string;
}

const REASONS_MAX = 12;

export async function runScenario(scenario: Scenario, options: RunOptions): Promise<RunReport> {
  const startedMs = Date.now();
  const runDir = mkdtempSync(join(options.rootDir, `${scenario.name}-`));
  const config: WorkloadConfig = { ...defaultWorkload, ...options.workload };
  const [port, httpPort] = [await freePort(), await freePort()];
  const node = new TstanNode({ name: 'n1', clusterId: config.clusterId, dataDir: join(runDir, 'data'), runDir, port, httpPort, store: options.store ?? 'file', ...(options.tstanRoot === undefined ? {} : { tstanRoot: options.tstanRoot }) });
  const history = new HistoryRecorder(join(runDir, 'history.jsonl'));
  const random = seededRandom(deriveSeed(options.seed, 'nemesis'));
  const nemesis = new Nemesis(history);
  const target = { endpoint: () => ({ name: node.spec.name, url: node.url }), lastSeq: (channel: string) => node.lastSeq(channel) };
  const workload = new Workload(config, target, history, options.seed);
  let harnessError: unknown;
  try {
    await node.start();
    await workload.start();
    await delay(options.phases.warmupMs);
    const faultStartMs = Date.now();
    const at = (atMs: number) => delay(Math.max(0, faultStartMs + atMs - Date.now()));
    await scenario.faults({ node, history, nemesis, workload, random, phases: options.phases, at });
    await at(options.phases.faultMs);
    if (!node.running) await node.start();
    await workload.drain();
  } catch (error) {
    harnessError = error;
  } finally {
    await workload.stop();
    await node.stop();
    history.close();
  }
  if (harnessError !== undefined) {
    const reasons = [`harness error: ${harnessError instanceof Error ? (harnessError.stack ?? harnessError.message) : String(harnessError)}`];
    return { scenario: scenario.name, store: options.store ?? 'file', seed: options.seed, phases: options.phases, verdict: 'error', reasons, figures: null, nodeLogErrors: node.errorLines().length, checkerMs: 0, durationMs: Date.now() - startedMs, runDir };
  }
  const verdict = checkHistory(history.ops);
  const figures = computeFigures(history.ops, verdict, nemesis.events);
  // docs/testing.md §5.5, check 7: an error, panic, assert or corruption line in the node's log fails the run.
  const errorLines = node.errorLines();
  const reasons = errorLines.length === 0 ? verdict.reasons : [`node log has ${errorLines.length} error lines, first: ${errorLines[0]?.slice(0, 300)}`, ...verdict.reasons];
  const valid = verdict.valid && errorLines.length === 0;
  if (valid && options.keep !== true) rmSync(runDir, { recursive: true, force: true });
  return {
    scenario: scenario.name,
    store: options.store ?? 'file',
    seed: options.seed,
    phases: options.phases,
    verdict: valid ? 'valid' : 'invalid',
    reasons: reasons.slice(0, REASONS_MAX),
    figures,
    nodeLogErrors: errorLines.length,
    checkerMs: Math.round(verdict.checkerMs),
    durationMs: Date.now() - startedMs,
    runDir,
  };
}
