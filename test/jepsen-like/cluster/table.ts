// The figures of every scenario as one plain-text table (docs/testing.md §5.7), for the end of a
// run: verdict, counts, loss, duplicates, the longest gap between acks, the new-leader time of
// each leader fault, convergence after the heal, elections and term growth, snapshot installs.
import type { RunReport } from '../scenarios.js';
import type { ClusterRunReport } from './runner.js';

type AnyReport = RunReport | ClusterRunReport;

const COLUMNS = ['scenario', 'seed', 'verdict', 'acked', 'lost', 'unexp', 'dups(retry/redeliv/bug)', 'maxGapMs', 'newLeaderMs', 'convergeMs', 'elections', 'termGrowth', 'snapInstalls', 'diverged', 'invariants'] as const;

export function reportRow(report: AnyReport): string[] {
  const f = report.figures;
  const c = 'cluster' in report ? report.cluster : null;
  const newLeader = c?.leaderFaults.filter((l) => l.hitLeader).map((l) => (l.newLeaderMs === null ? '-' : String(Math.round(l.newLeaderMs)))).join(',') ?? '';
  const invariants = 'invariants' in report && report.invariants !== null ? Object.values(report.invariants.counts).reduce((a, b) => a + b, 0) : null;
  return [
    report.scenario,
    String(report.seed),
    // A lazy run whose cluster never served again: measured, and said so.
    'measuredLoss' in report && report.measuredLoss?.availability !== undefined ? `${report.verdict} (unavailable)` : report.verdict,
    f === null ? '-' : String(f.acked),
    f === null ? '-' : String(f.lost.total),
    f === null ? '-' : String(f.unexpected),
    f === null ? '-' : `${f.duplicates.clientRetry}/${f.duplicates.redelivery}/${f.duplicates.serverBug}`,
    f === null ? '-' : String(Math.round(f.longestAckGapMs)),
    newLeader || '-',
    'convergeAfterHealMs' in report && report.convergeAfterHealMs !== null ? String(Math.round(report.convergeAfterHealMs)) : '-',
    c === null ? '-' : String(c.elections),
    c === null ? '-' : String(c.termGrowth),
    c === null ? '-' : String(c.snapshotInstalls),
    'divergentNodes' in report ? String(report.divergentNodes) : '-',
    invariants === null ? '-' : String(invariants),
  ];
}

export const tableColumns: readonly string[] = COLUMNS;

export function figuresTable(reports: readonly AnyReport[]): string {
  const rows = [[...COLUMNS], ...reports.map(reportRow)];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}
