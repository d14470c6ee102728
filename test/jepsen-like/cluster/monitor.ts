// Samples every node's `/streaming/clusterz` a few times a second during a run: role, term,
// leader, commit and applied index, or that the node did not answer (down or paused). The samples
// draw the report's leader-per-node timeline and back the figures when a trace is missing. One
// request per node at a time, each bounded, so a paused node does not pile requests up.
import type { ChaosCluster } from './chaos-cluster.js';

export interface NodeSample {
  readonly tNs: number;
  readonly node: string;
  /** `Down` when the process is not running, `Silent` when it does not answer (paused, stuck). */
  readonly role: string;
  readonly term: number;
  readonly leader: string;
  readonly commit: number;
  readonly applied: number;
}

const SAMPLE_EVERY_MS = 200;
const SAMPLE_TIMEOUT_MS = 400;

export class ClusterMonitor {
  readonly samples: NodeSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly busy = new Set<string>();

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly nowNs: () => number,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.sampleAll(), SAMPLE_EVERY_MS);
    this.sampleAll();
  }

  private sampleAll(): void {
    for (const id of this.cluster.ids) {
      if (this.busy.has(id)) continue;
      this.busy.add(id);
      void this.sample(id).finally(() => this.busy.delete(id));
    }
  }

  private async sample(id: string): Promise<void> {
    const node = this.cluster.node(id);
    const tNs = this.nowNs();
    if (!node.running) {
      this.samples.push({ tNs, node: id, role: 'Down', term: 0, leader: '', commit: 0, applied: 0 });
      return;
    }
    const view = await this.cluster.view(id, SAMPLE_TIMEOUT_MS);
    if (view === undefined) this.samples.push({ tNs, node: id, role: 'Silent', term: 0, leader: '', commit: 0, applied: 0 });
    else this.samples.push({ tNs, node: id, role: view.role, term: view.term, leader: view.leader, commit: view.commit, applied: view.applied });
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
