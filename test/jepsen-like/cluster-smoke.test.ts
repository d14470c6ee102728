// The chaos harness against real 3-node clusters in CI, with short phases: leader kill, leader
// pause, isolated leader (its clients attached), leader-deaf, a torn Raft log tail, a lagging
// follower caught up by snapshot, a consumer crash, graceful hand-overs (each publisher's order
// kept across them). Each must pass every checker: nothing
// acknowledged lost, nothing unexpected, sequences consistent, every node's digest equal, Raft's
// invariants over the traces, no unexplained error line; timings fail only past three times their
// bound. A leader that acknowledges before commit must be caught, so that green means something.
// The runs' report.html is rendered in headless Chromium and screenshotted (path printed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipWithout } from '../support/test-deps.js';
import { runClusterScenario, type ClusterRunReport } from './cluster/runner.js';
import { findClusterScenario } from './cluster/scenarios.js';
import { brokenEntry, brokenRuns } from './cluster/broken.js';
import { renderReport } from './cluster/report-html.js';
import { figuresTable } from './cluster/table.js';

const phases = { warmupMs: 2_000, faultMs: 8_000 };
const workload = { publishers: 2, publishRateHz: 50, queueGroupMembers: 1 };
const SMOKE = [
  ['leader-kill', 11],
  ['leader-pause', 12],
  ['isolated-leader', 13],
  ['leader-deaf', 14],
  ['torn-raft-tail', 2],
  ['lagging-follower-snapshot', 16],
  ['cluster-consumer-crash', 17],
  ['leader-handover', 11],
] as const;

describe('chaos harness on 3-node clusters (smoke)', () => {
  let rootDir = '';
  const reports: ClusterRunReport[] = [];
  let failed = false;
  beforeAll(() => {
    rootDir = mkdtempSync(join(tmpdir(), 'tstan-chaos-smoke-'));
  });
  afterAll(() => {
    if (reports.length > 0) process.stdout.write(figuresTable(reports));
    if (!failed) rmSync(rootDir, { recursive: true, force: true });
    else process.stdout.write(`chaos smoke: runs kept in ${rootDir}\n`);
  });

  for (const [name, seed] of SMOKE) {
    it(`${name} (seed ${seed}): every checker passes`, async () => {
      const scenario = findClusterScenario(name)!;
      const report = await runClusterScenario(scenario, { seed, rootDir, phases, workload });
      reports.push(report);
      if (report.verdict !== 'valid') failed = true;
      expect(report.reasons).toEqual([]);
      expect(report.verdict).toBe('valid');
      expect(report.figures!.acked).toBeGreaterThan(0);
      expect(report.faults.length).toBeGreaterThan(0);
      expect(Object.keys(report.digests)).toHaveLength(3);
    }, 150_000);
  }

  it('catches a leader that acknowledges before commit (isolated leader, broken build)', async () => {
    const broken = brokenRuns.find((b) => b.name === 'ack-before-commit')!;
    const report = await runClusterScenario(broken.scenario, { seed: 21, rootDir, phases, workload, entry: brokenEntry, env: broken.env });
    reports.push({ ...report, scenario: `${broken.name} (must fail)` });
    expect(broken.caught(report), JSON.stringify(report.reasons)).toBe(true);
  }, 150_000);

  it.skipIf(skipWithout('chromium'))('renders report.html in headless Chromium', () => {
    expect(reports.length).toBeGreaterThan(0);
    const html = join(rootDir, 'report.html');
    writeFileSync(html, renderReport(reports, { seed: 0, startedAt: new Date().toISOString(), commit: 'test', command: 'vitest cluster-smoke' }));
    const png = join(tmpdir(), 'tstan-chaos-report.png');
    rmSync(png, { force: true });
    const args = ['--headless=new', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--window-size=1100,2400', `--screenshot=${png}`, `file://${html}`];
    const result = spawnSync('chromium', args, { encoding: 'utf8', timeout: 60_000 });
    expect(result.status, result.stderr).toBe(0);
    const bytes = readFileSync(png);
    expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    // A blank page compresses to a few kB; the figures, timelines and role lanes make it far larger.
    expect(statSync(png).size).toBeGreaterThan(50_000);
    const dom = spawnSync('chromium', ['--headless=new', '--no-sandbox', '--disable-gpu', '--dump-dom', `file://${html}`], { encoding: 'utf8', timeout: 60_000 });
    expect(dom.stdout.match(/<section /g)?.length).toBe(reports.length);
    expect(dom.stdout.match(/<svg /g)?.length).toBe(reports.filter((r) => r.timeline !== undefined).length);
    process.stdout.write(`chaos report screenshot: ${png}\n`);
  }, 120_000);
});
