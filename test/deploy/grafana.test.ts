// Proves deploy/grafana against a running cluster:
// - every query of the dashboard (panels and template variables) names only metrics that /metrics
//   of a running three-node cluster really exposes: the test scrapes every node, after creating a
//   channel and a subscription with unacknowledged messages so that every series exists, and
//   compares; the name check catches a misspelt metric;
// - the dashboard covers what the issue asks for (throughput per channel, pending, redeliveries,
//   Raft role, term, commit lag, elections, fsync latency), and each query is valid PromQL
//   (promtool parses it as a recording rule);
// - the alert rules pass `promtool check rules`, their unit tests (alerts.test.yaml) pass, they
//   cover no leader, follower lag, disk nearly full and slow consumers, and they name only tstan
//   metrics the cluster exposes, or the kubelet's volume statistics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { skipWithout } from '../support/test-deps.js';
import { repoRoot } from '../support/tstan-process.js';
import { TestCluster } from '../cluster/support/cluster.js';
import { StanSession } from '../jepsen-like/stan-client.js';

const grafanaDir = join(repoRoot, 'deploy', 'grafana');

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
}
const dashboard = JSON.parse(readFileSync(join(grafanaDir, 'tstan-dashboard.json'), 'utf8')) as {
  panels: Panel[];
  templating: { list: Array<{ type: string; query: unknown }> };
};

/** Every PromQL query of the dashboard: panel targets and query variables. */
function dashboardQueries(): string[] {
  const queries = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
  for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
    const query = typeof variable.query === 'string' ? variable.query : (variable.query as { query: string }).query;
    // label_values(metric, label) is Grafana's; the metric inside it is PromQL.
    queries.push(query.replace(/^label_values\(\s*([^,]+),.*\)$/, '$1'));
  }
  return queries;
}

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/** The metric names a PromQL expression reads. */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  const names = new Set<string>();
  for (const match of stripped.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    const [, word, call] = match;
    if (call !== undefined || KEYWORDS.has(word!.toLowerCase()) || /^\d/.test(word!)) continue;
    names.add(word!);
  }
  return [...names];
}

describe('deploy/grafana', () => {
  let cluster: TestCluster | undefined;
  const sessions: StanSession[] = [];
  let exposed: Set<string>;

  beforeAll(async () => {
    cluster = await TestCluster.create({ size: 3 });
    await cluster.startAll();
    const leader = await cluster.leader();
    // A channel with messages and a subscriber that does not acknowledge: channel, pending and
    // subscription series then exist too.
    const session = await StanSession.connect({ url: cluster.node(leader).url, clusterId: cluster.clusterId, clientId: 'grafana-check', pubAckTimeoutMs: 5_000, connectTimeoutMs: 5_000 });
    sessions.push(session);
    let received = 0;
    await session.subscribe('grafana.orders', { maxInFlight: 10, ackWaitMs: 60_000, manualAcks: true }, () => received++);
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) => session.publish('grafana.orders', `m${i}`, (outcome) => (outcome === 'ok' ? resolve() : reject(new Error(outcome)))));
    }
    const deadline = Date.now() + 10_000;
    while (received < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(received).toBe(3);
    exposed = new Set<string>();
    for (const node of cluster.nodes.values()) {
      const text = await (await fetch(`${node.monitorUrl}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
      for (const line of text.split('\n')) {
        const name = /^([A-Za-z_:][A-Za-z0-9_:]*)[{ ]/.exec(line)?.[1];
        if (name !== undefined) exposed.add(name);
      }
    }
  }, 90_000);

  afterAll(async () => {
    for (const session of sessions) session.close();
    await cluster?.stop();
  });

  it('the dashboard\'s queries name only metrics that /metrics of a running cluster exposes', () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(20);
    const named = new Set(queries.flatMap(metricNames));
    expect([...named].filter((name) => !exposed.has(name))).toEqual([]);
    // The check bites: a misspelt name is not exposed, and functions, keywords, label names and
    // Grafana's variables are not taken for metrics.
    expect(metricNames('sum by (instance) (rate(tstan_mesages_in_total{instance=~"$instance"}[$__rate_interval])) > on(instance) bool 0')).toEqual(['tstan_mesages_in_total']);
    expect(exposed.has('tstan_mesages_in_total')).toBe(false);
  });

  it('the dashboard shows throughput per channel, pending, redeliveries, Raft role, term, commit lag, elections and fsync latency', () => {
    const queries = dashboardQueries();
    const uses = (metric: string, also: RegExp = /./): boolean => queries.some((q) => metricNames(q).includes(metric) && also.test(q));
    expect(uses('tstan_messages_in_total', /rate\(/)).toBe(true);
    expect(uses('tstan_channel_messages', /by \(channel\)/)).toBe(true);
    expect(uses('tstan_pending_acks')).toBe(true);
    expect(uses('tstan_redeliveries_total', /rate\(/)).toBe(true);
    expect(uses('tstan_raft_role')).toBe(true);
    expect(uses('tstan_raft_term')).toBe(true);
    expect(uses('tstan_raft_peer_lag') && uses('tstan_raft_apply_lag')).toBe(true);
    expect(uses('tstan_raft_elections_started')).toBe(true);
    expect(uses('tstan_store_write_seconds_bucket', /histogram_quantile\(/)).toBe(true);
  });

  describe.skipIf(skipWithout('promtool'))('with promtool', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'tstan-grafana-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('every dashboard query is valid PromQL', () => {
      // Grafana's interval variables become a duration; other variables sit inside strings.
      const rules = dashboardQueries().map((expr, i) => ({ record: `dashboard:query_${i}`, expr: expr.replaceAll('$__rate_interval', '5m').replaceAll('$__range', '1h') }));
      const file = join(dir, 'dashboard-rules.yaml');
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
      const checked = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
      expect(checked.status, checked.stdout + checked.stderr).toBe(0);
      expect(checked.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
    });

    it('the alert rules pass promtool\'s check and their unit tests', () => {
      const checked = spawnSync('promtool', ['check', 'rules', join(grafanaDir, 'alerts.yaml')], { encoding: 'utf8' });
      expect(checked.status, checked.stdout + checked.stderr).toBe(0);
      const tested = spawnSync('promtool', ['test', 'rules', join(grafanaDir, 'alerts.test.yaml')], { encoding: 'utf8' });
      expect(tested.status, tested.stdout + tested.stderr).toBe(0);
      expect(tested.stdout).toContain('SUCCESS');
    });
  });

  it('the alert rules cover no leader, follower lag, disk nearly full and slow consumers, on metrics that exist', () => {
    const rules = (parse(readFileSync(join(grafanaDir, 'alerts.yaml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> }).groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual(expect.arrayContaining(['TstanNoLeader', 'TstanFollowerLag', 'TstanDiskNearlyFull', 'TstanSlowConsumers']));
    const named = new Set(rules.flatMap((rule) => metricNames(rule.expr)));
    // tstan does not measure its disk: the kubelet's statistics of the volume claims do.
    const kubelet = new Set(['kubelet_volume_stats_available_bytes', 'kubelet_volume_stats_capacity_bytes']);
    expect([...named].filter((name) => !exposed.has(name) && !kubelet.has(name))).toEqual([]);
    expect([...named].filter((name) => kubelet.has(name)).sort()).toEqual([...kubelet].sort());
  });
});
