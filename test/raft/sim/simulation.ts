// The deterministic simulator: a 3–5 node cluster of real Raft cores over a simulated network
// and simulated disks, driven by one seeded event queue. A fault phase (partitions, loss,
// duplication, crashes with power failure, wiped disks, leadership transfers, membership
// changes) is followed by a healed phase in which a leader must emerge and every log converge.
import type { Message } from '../../../src/raft/messages.js';
import { EntryType } from '../../../src/raft/types.js';
import { encodeConfig } from '../../../src/raft/membership.js';
import { Checker, FailureKind, SimFailure, mixNumber } from './checker.js';
import { EventQueue } from './event-queue.js';
import { SimNetwork } from './network.js';
import { Rng } from './rng.js';
import { SimNode } from './sim-node.js';
import type { NodeHost } from './sim-node.js';
import type { SimOptions } from './options.js';
import { applyMembershipStep } from './operator.js';

type SimEvent = { readonly time: number; readonly seq: number } & (
  | { readonly kind: 'tick'; readonly node: number }
  | { readonly kind: 'deliver'; readonly message: Message }
  | { readonly kind: 'fsync'; readonly node: number; readonly incarnation: number }
  | { readonly kind: 'fault' }
  | { readonly kind: 'restart'; readonly node: number }
  | { readonly kind: 'crash'; readonly node: number }
  | { readonly kind: 'propose' }
  | { readonly kind: 'operator' }
  | { readonly kind: 'heal' }
);
type EventBody = SimEvent extends infer E ? (E extends SimEvent ? Omit<E, 'time' | 'seq'> : never) : never;

export interface SimStats {
  events: number;
  ticks: number;
  crashes: number;
  wipes: number;
  /** Nodes restarted in rejoin mode that caught up and may vote again. */
  rejoinsCaughtUp: number;
  proposals: number;
  acked: number;
  leaderTerms: number;
  snapshotsSent: number;
  messagesSent: number;
  messagesDropped: number;
  lastIndex: number;
  simulatedMs: number;
  cacheHits: number;
  storageReads: number;
}

export interface SimResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly kind?: FailureKind;
  readonly message?: string;
  readonly stats: SimStats;
  /** A digest of every event processed: equal for equal seeds. */
  readonly traceHash: number;
  readonly log: readonly string[];
}

const tickMs = 100;
const healAcksWanted = 3;
const clientOutstandingMax = 24;
const messageCodes: Record<Message['type'], number> = {
  preVote: 1, preVoteResponse: 2, vote: 3, voteResponse: 4, append: 5, appendResponse: 6,
  heartbeat: 7, heartbeatResponse: 8, installSnapshot: 9, installSnapshotResponse: 10, timeoutNow: 11,
};

export class Simulation implements NodeHost {
  readonly checker = new Checker();
  readonly nodes: SimNode[] = [];
  readonly network: SimNetwork;
  readonly log: string[] = [];
  private readonly rng: Rng;
  private readonly queue = new EventQueue<SimEvent>();
  private seq = 0;
  now = 0;
  healed = false;
  private proposalCounter = 0;
  private ackedAtHeal = 0;
  private traceHash = 0x811c9dc5;
  readonly stats: SimStats = {
    events: 0, ticks: 0, crashes: 0, wipes: 0, rejoinsCaughtUp: 0, proposals: 0, acked: 0, leaderTerms: 0, snapshotsSent: 0,
    messagesSent: 0, messagesDropped: 0, lastIndex: 0, simulatedMs: 0, cacheHits: 0, storageReads: 0,
  };

  constructor(readonly options: SimOptions) {
    this.rng = new Rng(options.seed);
    this.network = new SimNetwork(this.rng.fork(), options.dropRate, options.duplicateRate, options.delayMinMs, options.delayMaxMs);
    const ids = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
    const voters = options.spareNode ? ids.slice(0, -1) : ids;
    const bootstrap = [{ index: 1, term: 1, type: EntryType.ConfigChange, data: encodeConfig({ voters, nonVoters: [] }) }];
    for (const id of ids) {
      const node = new SimNode(id, this, options, this.rng.fork(), options.bugs);
      if (voters.includes(id)) node.disk.bootstrap(bootstrap, { term: 1, vote: '', commit: 0 });
      this.nodes.push(node);
    }
  }

  private schedule(delayMs: number, body: EventBody): void {
    // The body is a fresh literal: stamping it in place avoids copying on this hot path.
    const event = body as unknown as { time: number; seq: number };
    event.time = this.now + delayMs;
    event.seq = this.seq++;
    this.queue.push(event as unknown as SimEvent);
  }

  note(line: string): void {
    this.log.push(`${String(this.now).padStart(6)}ms ${line}`);
  }

  send(from: SimNode, messages: readonly Message[]): void {
    for (const message of messages) {
      if (this.options.checkDurableBeforeSend) this.checkDurable(from, message);
      if (message.type === 'append' || message.type === 'heartbeat' || message.type === 'installSnapshot') {
        this.checker.onLeaderTraffic(message.from, message.term);
      }
      if (message.type === 'installSnapshot' && message.offset === 0) this.stats.snapshotsSent++;
      for (const delay of this.network.deliveries(message, this.now)) this.schedule(delay, { kind: 'deliver', message });
    }
  }

  /** The durability contract: what a vote or an acknowledgement promises is already on disk. */
  private checkDurable(from: SimNode, message: Message): void {
    if (message.type === 'appendResponse' && !message.reject) {
      const durable = from.disk.durableLastIndex();
      if (durable < message.index) {
        this.checker.fail(`durability: ${from.id} acknowledged ${message.index} with only ${durable} durable`);
      }
    } else if (message.type === 'voteResponse' && !message.reject) {
      const hardState = from.disk.durableHardState();
      if (hardState.term !== message.term || hardState.vote !== message.to) {
        this.checker.fail(`durability: ${from.id} granted ${message.to} term ${message.term} before persisting the vote`);
      }
    }
  }

  scheduleFsync(node: SimNode, incarnation: number): void {
    const index = this.nodes.indexOf(node);
    this.schedule(this.rng.between(this.options.fsyncMinMs, this.options.fsyncMaxMs), { kind: 'fsync', node: index, incarnation });
  }

  onNewLeader(node: SimNode): void {
    this.note(`${node.id} leads term ${node.raft.term}`);
    if (this.healed || !this.rng.chance(this.options.isolateNewLeaderRate)) return;
    // Cut the new leader off at once, so that what it appends stays on it alone.
    const untilMs = this.now + this.rng.between(1500, 4000);
    this.network.isolate(node.id, untilMs);
    this.note(`buggify: isolate new leader ${node.id} until ${untilMs}ms`);
  }

  onCaughtUp(node: SimNode): void {
    this.stats.rejoinsCaughtUp++;
    this.note(`${node.id} caught up after rejoining (commit ${node.raft.commit}); it may vote again`);
  }

  /** Crash a leader right after its commit index moved, before followers hear of it. */
  private maybeCrashCommittingLeader(node: SimNode): void {
    if (!node.up || node.raft.role !== 'leader') return;
    const commit = node.raft.commit;
    if (commit === node.commitSeen) return;
    node.commitSeen = commit;
    if (this.healed || !this.rng.chance(this.options.crashOnCommitRate)) return;
    // Soon enough that followers may not hear of the commit, late enough that it may be applied.
    this.note(`buggify: crash ${node.id} soon after it committed ${commit}`);
    this.schedule(this.rng.between(1, 40), { kind: 'crash', node: this.nodes.indexOf(node) });
  }

  run(): SimResult {
    try {
      this.start();
      this.loop();
      return this.result(true);
    } catch (error) {
      if (error instanceof SimFailure) return this.result(false, error.kind, error.message);
      const code = (error as { code?: string }).code;
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
      if (code === 'ASSERTION_FAILED') return this.result(false, FailureKind.Correctness, `invariant: ${text}`);
      return this.result(false, FailureKind.Crash, text);
    }
  }

  private start(): void {
    this.nodes.forEach((node, index) => {
      node.start();
      this.schedule(this.rng.between(0, tickMs - 1), { kind: 'tick', node: index });
    });
    this.schedule(this.options.proposalIntervalMs, { kind: 'propose' });
    this.schedule(this.options.faultIntervalMs, { kind: 'fault' });
    if (this.options.membershipChanges) this.schedule(this.rng.between(300, 1000), { kind: 'operator' });
    this.schedule(this.options.faultPhaseMs, { kind: 'heal' });
  }

  private loop(): void {
    for (;;) {
      const event = this.queue.pop();
      if (!event) throw new SimFailure(FailureKind.Crash, 'event queue ran dry');
      this.now = event.time;
      // A wiped node fetches the whole log again, one batch per round trip: give it the time.
      const healMs = this.options.healPhaseMsMax * (this.stats.wipes > 0 ? 2 : 1);
      if (this.now > this.options.faultPhaseMs + healMs) {
        throw new SimFailure(FailureKind.Liveness, `no convergence ${healMs}ms after healing: ${this.describeNodes()}`);
      }
      this.stats.events++;
      this.trace(event);
      this.handle(event);
      if (this.healed && event.kind === 'tick' && event.node === 0 && this.converged()) return;
    }
  }

  private trace(event: SimEvent): void {
    let hash = mixNumber(this.traceHash, event.time);
    switch (event.kind) {
      case 'deliver': {
        const m = event.message;
        hash = mixNumber(mixNumber(hash, messageCodes[m.type]), m.term * 64 + Number(m.from.slice(1)) * 8 + Number(m.to.slice(1)));
        break;
      }
      case 'tick':
      case 'fsync':
      case 'restart':
      case 'crash':
        hash = mixNumber(hash, 100 + event.node);
        break;
      default:
        hash = mixNumber(hash, event.kind.length);
    }
    this.traceHash = hash;
  }

  private handle(event: SimEvent): void {
    switch (event.kind) {
      case 'tick': {
        this.stats.ticks++;
        const node = this.nodes[event.node]!;
        if (node.up) {
          node.raft.tick();
          node.drive();
        }
        this.schedule(tickMs, { kind: 'tick', node: event.node });
        return;
      }
      case 'deliver': {
        const node = this.nodes[Number(event.message.to.slice(1)) - 1];
        if (!node?.up) return;
        node.raft.step(event.message);
        node.drive();
        this.maybeCrashCommittingLeader(node);
        return;
      }
      case 'fsync': {
        const node = this.nodes[event.node]!;
        node.onFsync(event.incarnation);
        this.maybeCrashCommittingLeader(node);
        return;
      }
      case 'restart':
        this.restart(this.nodes[event.node]!);
        return;
      case 'crash': {
        const node = this.nodes[event.node]!;
        if (this.healed || !node.up) return;
        this.crash(node);
        this.schedule(this.rng.between(50, this.options.crashRestartMsMax), { kind: 'restart', node: event.node });
        return;
      }
      case 'propose':
        this.propose();
        return;
      case 'fault':
        if (this.healed) return;
        this.injectFault();
        this.schedule(this.rng.between(this.options.faultIntervalMs / 2, this.options.faultIntervalMs * 1.5), { kind: 'fault' });
        return;
      case 'heal':
        this.heal();
        return;
      case 'operator':
        if (this.healed) return;
        this.changeMembership();
        this.schedule(this.rng.between(300, 1000), { kind: 'operator' });
        return;
    }
  }

  private restart(node: SimNode): void {
    if (node.up) return;
    node.start();
    const mode = node.rejoining ? ' in rejoin mode' : '';
    this.note(`restart ${node.id}${mode} (term ${node.raft.term}, last ${node.raft.status().lastIndex})`);
    node.drive();
  }

  private crash(node: SimNode): void {
    if (!node.up) return;
    this.stats.crashes++;
    node.crash(this.options.tornTails);
    this.note(`power failure on ${node.id}`);
  }

  leaderNode(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const node of this.nodes) {
      if (node.up && node.raft.role === 'leader' && (!best || node.raft.term > best.raft.term)) best = node;
    }
    return best;
  }

  private propose(): void {
    const stopProposing = this.healed && this.checker.ackedCount() - this.ackedAtHeal >= healAcksWanted;
    if (stopProposing) return;
    const leader = this.leaderNode();
    // Clients keep a bounded number of proposals outstanding, as real ones do.
    const status = leader?.raft.status();
    const outstanding = status ? status.lastIndex - status.commit : 0;
    if (outstanding < clientOutstandingMax && leader?.propose(`p${this.proposalCounter}`)) {
      this.proposalCounter++;
      this.stats.proposals++;
    }
    this.schedule(this.rng.between(1, this.options.proposalIntervalMs * 2), { kind: 'propose' });
  }

  private injectFault(): void {
    if (this.options.wipeRate > 0 && this.rng.chance(this.options.wipeRate)) {
      this.wipeDisk();
      return;
    }
    const ids = this.nodes.map((node) => node.id);
    const roll = this.rng.nextInt(100);
    if (roll < 20) {
      this.network.heal();
      this.note(this.network.partition(ids));
    } else if (roll < 35) {
      this.network.heal();
      this.note(this.network.asymmetric(ids));
    } else if (roll < 50) {
      this.network.heal();
      this.note('network healed');
    } else if (roll < 70) {
      const node = this.rng.pick(this.nodes);
      this.crash(node);
      this.schedule(this.rng.between(50, this.options.crashRestartMsMax), { kind: 'restart', node: this.nodes.indexOf(node) });
    } else if (roll < 75) {
      this.note('coordinated power failure');
      this.nodes.forEach((node, index) => {
        this.crash(node);
        this.schedule(this.rng.between(50, this.options.crashRestartMsMax), { kind: 'restart', node: index });
      });
    } else if (roll < 85) {
      const leader = this.leaderNode();
      const target = this.rng.pick(ids);
      if (leader && target !== leader.id) {
        try {
          leader.raft.transferLeadership(target);
          this.note(`transfer leadership ${leader.id} -> ${target}`);
          leader.drive();
        } catch (error) {
          if (!(error as { code?: string }).code?.startsWith('RAFT_')) throw error;
        }
      }
    } else if (this.options.membershipChanges) {
      this.changeMembership();
    }
  }

  /**
   * Replace one node's disk by an empty one and restart it in rejoin mode. The gate trades
   * liveness for safety: until the node catches up, the others must elect a leader without its
   * vote. So wipe one node at a time, only where every view has three voters or more, and only
   * where all views agree on the configuration: a leader that removed itself, with the removal
   * on a minority, holds the newest log yet may not campaign, and without the gated vote nobody
   * else can win (the removal waits too: the operator removes nobody meanwhile).
   */
  private wipeDisk(): void {
    if (this.nodes.some((node) => node.rejoining)) return;
    // Every node's last view counts, up or down: a down node's may be the newest. A node that
    // never joined has none.
    let agreed: string | undefined;
    for (const node of this.nodes) {
      const config = node.raft.status().config;
      if (config.voters.length === 0) continue;
      if (config.voters.length < 3) return;
      const view = JSON.stringify(config);
      if (agreed !== undefined && view !== agreed) return;
      agreed = view;
    }
    const node = this.rng.pick(this.nodes);
    if (node.up) this.stats.crashes++;
    node.wipe(this.options.tornTails);
    this.stats.wipes++;
    this.note(`wipe the disk of ${node.id}; it restarts in rejoin mode`);
    this.schedule(this.rng.between(50, this.options.crashRestartMsMax), { kind: 'restart', node: this.nodes.indexOf(node) });
  }

  private changeMembership(): void {
    const leader = this.leaderNode();
    if (!leader) return;
    const policy = { promote: !this.options.autoPromote, remove: !this.nodes.some((node) => node.rejoining) };
    const change = applyMembershipStep(leader, this.nodes.map((node) => node.id), this.rng, policy);
    if (change) this.note(change);
  }

  private heal(): void {
    this.healed = true;
    this.ackedAtHeal = this.checker.ackedCount();
    this.network.healAll();
    this.network.dropRate = 0;
    this.network.duplicateRate = 0;
    this.note('heal: network whole, every node restarted');
    for (const node of this.nodes) this.restart(node);
  }

  /** Members of the latest configuration, as the leader sees it. */
  private members(leader: SimNode): SimNode[] {
    const config = leader.raft.status().config;
    return this.nodes.filter((node) => config.voters.includes(node.id) || config.nonVoters.includes(node.id));
  }

  private converged(): boolean {
    if (this.checker.ackedCount() - this.ackedAtHeal < healAcksWanted) return false;
    const leader = this.leaderNode();
    if (!leader) return false;
    const members = this.members(leader);
    const target = leader.raft.status();
    for (const node of members) {
      const status = node.raft.status();
      if (!node.up || status.leader !== leader.id || status.lastIndex !== target.lastIndex) return false;
      if (status.commit !== target.lastIndex || node.applied !== target.lastIndex || node.inFlight) return false;
    }
    this.finalChecks(members, target.lastIndex);
    return true;
  }

  private finalChecks(members: SimNode[], lastIndex: number): void {
    this.checker.checkAcked(lastIndex);
    const logs = new Map<string, readonly import('../../../src/raft/types.js').Entry[]>();
    for (const node of this.nodes) {
      if (!node.up) continue;
      const status = node.raft.status();
      logs.set(node.id, node.raft.entriesBetween(status.firstIndex, status.lastIndex + 1) ?? []);
    }
    this.checker.checkLogMatching(logs);
    this.stats.lastIndex = lastIndex;
    void members;
  }

  private describeNodes(): string {
    return this.nodes
      .map((node) => {
        if (!node.up) return `${node.id}:down`;
        const s = node.raft.status();
        return `${node.id}:${s.role}/t${s.term}/lead=${s.leader || '-'}/last=${s.lastIndex}/commit=${s.commit}/applied=${node.applied}`;
      })
      .join(' ');
  }

  private result(ok: boolean, kind?: FailureKind, message?: string): SimResult {
    this.stats.acked = this.checker.ackedCount();
    this.stats.leaderTerms = this.checker.leaderTerms();
    this.stats.messagesSent = this.network.sent;
    this.stats.messagesDropped = this.network.dropped;
    this.stats.simulatedMs = this.now;
    for (const node of this.nodes) {
      if (!node.up) continue;
      const { cacheHits, storageReads } = node.raft.logStats();
      this.stats.cacheHits += cacheHits;
      this.stats.storageReads += storageReads;
    }
    return {
      seed: this.options.seed,
      ok,
      ...(kind ? { kind } : {}),
      ...(message ? { message } : {}),
      stats: this.stats,
      traceHash: this.traceHash,
      log: this.log,
    };
  }
}
