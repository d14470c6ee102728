// What the deploy tests read of a running cluster through its monitoring ports: each node's view
// of the Raft cluster (/streaming/clusterz), the leader they agree on, and publishing through a
// client port.
import { StanSession } from '../../jepsen-like/stan-client.js';

export interface NodeView {
  readonly node_id: string;
  readonly role: string;
  readonly term: number;
  readonly leader: string;
  readonly serving: boolean;
  readonly ready: boolean;
  readonly voters: string[];
}

export async function clusterView(monitorUrl: string): Promise<NodeView | undefined> {
  try {
    const response = await fetch(`${monitorUrl}/streaming/clusterz`, { signal: AbortSignal.timeout(2_000) });
    return response.ok ? ((await response.json()) as NodeView) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Polls (leadership has no event to wait on from outside) until one reachable node leads and
 * serves, every reachable node names it, at least `quorum` nodes answer, and it is not in `not`.
 */
export async function agreedLeader(monitorUrls: readonly string[], options: { quorum: number; not?: readonly string[]; timeoutMs?: number }): Promise<{ leader: string; views: NodeView[] }> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let views: NodeView[] = [];
  for (;;) {
    views = (await Promise.all(monitorUrls.map(clusterView))).filter((view): view is NodeView => view !== undefined);
    const leaders = views.filter((view) => view.role === 'Leader' && view.serving);
    if (views.length >= options.quorum && leaders.length === 1) {
      const leader = leaders[0]!.node_id;
      if (!(options.not ?? []).includes(leader) && views.every((view) => view.leader === leader)) return { leader, views };
    }
    if (Date.now() > deadline) throw new Error(`no agreed leader within ${timeoutMs} ms: ${JSON.stringify(views.map((v) => [v.node_id, v.role, v.term, v.leader]))}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Polls `check` until it returns true (bounded). */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Connects to `url`, publishes `values` to `channel` one after another, each acknowledged, and closes. */
export async function publishThrough(url: string, clusterId: string, clientId: string, channel: string, values: readonly string[]): Promise<void> {
  const session = await StanSession.connect({ url, clusterId, clientId, pubAckTimeoutMs: 5_000, connectTimeoutMs: 5_000 });
  try {
    for (const value of values) {
      const outcome = await new Promise<string>((resolve) => session.publish(channel, value, (result, _guid, error) => resolve(result === 'ok' ? 'ok' : `${result}: ${error}`)));
      if (outcome !== 'ok') throw new Error(`publishing ${value} through ${url}: ${outcome}`);
    }
  } finally {
    session.close();
  }
}

/** Connects to `url` and returns the payloads of `channel` from its first message, once `count` arrived. */
export async function readChannel(url: string, clusterId: string, clientId: string, channel: string, count: number, timeoutMs = 15_000): Promise<string[]> {
  const session = await StanSession.connect({ url, clusterId, clientId, pubAckTimeoutMs: 5_000, connectTimeoutMs: 5_000 });
  try {
    const values: string[] = [];
    let done: () => void = () => undefined;
    const enough = new Promise<void>((resolve) => (done = resolve));
    const sub = await session.subscribe(channel, { maxInFlight: 100, ackWaitMs: 30_000, manualAcks: false }, (delivery) => {
      values.push(delivery.value);
      if (values.length >= count) done();
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([enough, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`only ${JSON.stringify(values)} of ${count} messages of ${channel} within ${timeoutMs} ms`)), timeoutMs)))]);
    clearTimeout(timer);
    sub.close();
    return values;
  } finally {
    session.close();
  }
}
