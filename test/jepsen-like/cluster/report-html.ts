// report.html for a chaos run: one self-contained page (inline CSS and SVG, no script, nothing
// fetched), readable offline. At the top the figures of every scenario as a table; then per
// scenario its verdict and reasons, each checker's verdict, and a timeline: publishes and acks per
// second with the fault windows shaded, and below it each node's Raft role over time (from its
// trace) with the times it was down or not answering (from the monitor's samples).
import type { RunReport } from '../scenarios.js';
import type { ClusterRunReport, Timeline } from './runner.js';
import { reportRow, tableColumns } from './table.js';

type AnyReport = RunReport | ClusterRunReport;

export interface ReportMeta {
  readonly seed: number;
  readonly startedAt: string;
  readonly commit: string;
  readonly command: string;
}

const WIDTH = 960;
const CHART_HEIGHT = 120;
const LANE_HEIGHT = 18;
const LEFT = 48;
const ROLE_COLOURS: Record<string, string> = { leader: '#1f5fa8', follower: '#cfe0f3', candidate: '#e8731a', preCandidate: '#f4c76b' };

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

function verdictClass(verdict: string): string {
  return verdict === 'valid' ? 'ok' : verdict === 'measured' ? 'measured' : 'bad';
}

function figuresTable(reports: readonly AnyReport[]): string {
  const head = tableColumns.map((c) => `<th>${escape(c)}</th>`).join('');
  const rows = reports
    .map((r) => {
      const cells = reportRow(r).map((cell, i) => (i === 0 ? `<td><a href="#${escape(r.scenario)}">${escape(cell)}</a></td>` : `<td>${escape(cell)}</td>`));
      return `<tr class="${verdictClass(r.verdict)}">${cells.join('')}</tr>`;
    })
    .join('\n');
  return `<div class="scroll"><table class="figures"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** Each checker's verdict, from what the report holds. */
function checkerList(r: AnyReport): string {
  const f = r.figures;
  const items: Array<[string, boolean | null, string]> = [];
  if (f !== null) {
    items.push(['total-queue: nothing acknowledged lost, nothing unexpected', f.lost.total === 0 && f.unexpected === 0 && f.readerMissed === 0, `lost ${f.lost.total} (prefix ${f.lost.prefix}, middle ${f.lost.middle}, postfix ${f.lost.postfix}), unexpected ${f.unexpected}, missed by a reader ${f.readerMissed}`]);
    items.push(['final deliver-all read holds every acknowledged value', f.absentFromDrain === 0, `absent ${f.absentFromDrain}`]);
    const o = f.orderViolations;
    items.push(['sequences: one payload per sequence, order, no lost write', f.inconsistentSeqs === 0 && o.gaps + o.reorders + o.realtime + o.fifo === 0 && f.duplicates.serverBug === 0, `two payloads at a sequence ${f.inconsistentSeqs}, gaps ${o.gaps}, reorders ${o.reorders}, real-time ${o.realtime}, FIFO ${o.fifo}, stored twice ${f.duplicates.serverBug}; excused jumps ${f.excusedJumps}, redeliveries ${f.duplicates.redelivery}`]);
  }
  if ('divergentNodes' in r) {
    items.push(['divergence: every node holds the same state', r.divergentNodes === 0 && Object.keys(r.digests).length === r.size, Object.entries(r.digests).map(([id, d]) => `${id}=${d.slice(0, 10)}`).join(' ') || 'not compared']);
    if (r.invariants !== null) {
      const total = Object.values(r.invariants.counts).reduce((a, b) => a + b, 0);
      items.push(['Raft invariants over the traces', total === 0, `${Object.entries(r.invariants.counts).map(([k, v]) => `${k} ${v}`).join(', ')} (${r.invariants.events} events)`]);
    }
    const logErrors = Object.values(r.nodeLogErrors).reduce((a, b) => a + b, 0);
    const known = Object.values(r.knownLogErrors).reduce((a, b) => a + b, 0);
    items.push(['node logs: no error, panic, assertion or corruption', logErrors === 0, `unexpected ${logErrors}, known harmless ${known}${Object.keys(r.afterDamageLog).length > 0 ? `, after deliberate damage: ${Object.entries(r.afterDamageLog).map(([id, v]) => `${id} ${v.lines}`).join(', ')}` : ''}`]);
    for (const t of r.timings) items.push([`timing: ${t.name} (bound ${t.boundMs} ms)`, t.verdict === 'fail' ? false : t.verdict === 'ok' ? true : null, `${t.valueMs} ms, ${t.verdict}`]);
    for (const rec of r.recoveries) items.push([`damaged node ${rec.node} came back`, rec.outcome === 'served' ? true : null, rec.outcome === 'served' ? 'served on its own' : `refused, wiped, rejoined: ${rec.error ?? ''}`]);
  }
  const li = items.map(([name, pass, detail]) => `<li class="${pass === null ? 'measured' : pass ? 'ok' : 'bad'}"><b>${pass === null ? '~' : pass ? '✓' : '✗'}</b> ${escape(name)} <span class="detail">${escape(detail)}</span></li>`);
  return `<ul class="checks">${li.join('')}</ul>`;
}

function timelineSvg(r: ClusterRunReport, t: Timeline): string {
  const nodes = Object.keys(t.roles).sort();
  const endMs = Math.max(t.endMs, 1);
  const x = (ms: number) => LEFT + (Math.max(0, Math.min(ms, endMs)) / endMs) * (WIDTH - LEFT - 8);
  const laneTop = CHART_HEIGHT + 28;
  const height = laneTop + nodes.length * (LANE_HEIGHT + 4) + 24;
  const parts: string[] = [];
  const maxRate = Math.max(1, ...t.publishesPerSecond, ...t.acksPerSecond);
  const y = (v: number) => 8 + CHART_HEIGHT - (v / maxRate) * CHART_HEIGHT;
  for (const f of r.faults) {
    const x0 = x(f.startNs / 1e6);
    const x1 = Math.max(x0 + 2, x(f.endNs / 1e6));
    parts.push(`<rect x="${x0.toFixed(1)}" y="4" width="${(x1 - x0).toFixed(1)}" height="${height - 24}" class="fault"><title>${escape(`${f.kind} ${f.node} ${Math.round(f.startNs / 1e6)}-${Math.round(f.endNs / 1e6)} ms ${f.detail ?? ''}`)}</title></rect>`);
    parts.push(`<text x="${(x0 + 2).toFixed(1)}" y="16" class="faultlabel">${escape(`${f.kind} ${f.node}`)}</text>`);
  }
  const barWidth = Math.max(1, (WIDTH - LEFT - 8) / Math.max(1, endMs / 1000) - 1);
  t.acksPerSecond.forEach((v, second) => {
    if (v > 0) parts.push(`<rect x="${x(second * 1000).toFixed(1)}" y="${y(v).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(8 + CHART_HEIGHT - y(v)).toFixed(1)}" class="acks"><title>${second} s: ${v} acks</title></rect>`);
  });
  const publishPath = t.publishesPerSecond.map((v, second) => `${second === 0 ? 'M' : 'L'}${(x(second * 1000) + barWidth / 2).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  parts.push(`<path d="${publishPath}" class="publishes"/>`);
  parts.push(`<text x="4" y="16" class="axis">${maxRate}/s</text><text x="4" y="${8 + CHART_HEIGHT}" class="axis">0</text>`);
  for (let second = 0; second * 1000 <= endMs; second += 5) parts.push(`<text x="${x(second * 1000).toFixed(1)}" y="${height - 6}" class="axis">${second}s</text>`);
  parts.push(`<line x1="${x(t.faultStartMs)}" x2="${x(t.faultStartMs)}" y1="4" y2="${height - 20}" class="phase"/><line x1="${x(t.healMs)}" x2="${x(t.healMs)}" y1="4" y2="${height - 20}" class="phase"/>`);
  nodes.forEach((node, i) => {
    const top = laneTop + i * (LANE_HEIGHT + 4);
    parts.push(`<text x="4" y="${top + LANE_HEIGHT - 4}" class="lane">${escape(node)}</text>`);
    for (const [startMs, stopMs, role, term] of t.roles[node] ?? []) {
      const x0 = x(startMs);
      parts.push(`<rect x="${x0.toFixed(1)}" y="${top}" width="${Math.max(1, x(stopMs) - x0).toFixed(1)}" height="${LANE_HEIGHT}" fill="${ROLE_COLOURS[role] ?? '#999'}"><title>${escape(`${node} ${role} term ${term} ${startMs}-${stopMs} ms`)}</title></rect>`);
    }
    for (const [startMs, stopMs, state] of unreachableSpans(t, node)) {
      parts.push(`<rect x="${x(startMs).toFixed(1)}" y="${top}" width="${Math.max(1, x(stopMs) - x(startMs)).toFixed(1)}" height="${LANE_HEIGHT}" class="down"><title>${escape(`${node} ${state} ${startMs}-${stopMs} ms`)}</title></rect>`);
    }
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img">${parts.join('')}</svg>`;
}

/** Spans in which the monitor found the node down or silent (paused, cut off from the harness). */
function unreachableSpans(t: Timeline, node: string): Array<[number, number, string]> {
  const spans: Array<[number, number, string]> = [];
  let open: [number, string] | undefined;
  for (const s of t.samples) {
    if (s.node !== node) continue;
    const ms = s.tNs / 1e6;
    const bad = s.role === 'Down' || s.role === 'Silent' ? s.role : undefined;
    if (bad !== undefined && open === undefined) open = [ms, bad];
    else if (bad === undefined && open !== undefined) {
      spans.push([open[0], ms, open[1]]);
      open = undefined;
    }
  }
  if (open !== undefined) spans.push([open[0], t.endMs, open[1]]);
  return spans;
}

function scenarioSection(r: AnyReport): string {
  const reasons = r.reasons.length === 0 ? '' : `<ul class="reasons">${r.reasons.map((reason) => `<li>${escape(reason)}</li>`).join('')}</ul>`;
  const cluster = 'cluster' in r ? r : undefined;
  const timeline = cluster?.timeline !== undefined ? timelineSvg(cluster, cluster.timeline) : '';
  const description = cluster !== undefined ? cluster.description : `standalone node on the ${'store' in r && r.store === 'memory' ? 'MEMORY' : 'FILE'} store`;
  const files = cluster !== undefined ? `<p class="files">run directory: <code>${escape(cluster.runDir)}</code> (history.jsonl, node logs, traces, fsync logs, report.json)</p>` : `<p class="files">run directory: <code>${escape(r.runDir)}</code></p>`;
  const figures = cluster?.cluster ? `<details><summary>figures</summary><pre>${escape(JSON.stringify({ cluster: cluster.cluster, catchUps: cluster.catchUps, network: cluster.network, measuredLoss: cluster.measuredLoss, faults: r.figures?.faults }, null, 1))}</pre></details>` : '';
  return `<section id="${escape(r.scenario)}"><h2 class="${verdictClass(r.verdict)}">${escape(r.scenario)} <small>${escape(r.verdict)}${cluster?.number ? ` · scenario ${cluster.number}` : ''} · seed ${r.seed} · ${Math.round(r.durationMs / 1000)} s</small></h2>
<p>${escape(description)}</p>${reasons}${checkerList(r)}${timeline}${figures}${files}</section>`;
}

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}div.scroll{overflow-x:auto}
h1{font-size:22px}h2{font-size:17px;margin:28px 0 4px;padding:4px 8px;border-left:6px solid #999}
h2.ok{border-color:#2a8a3a}h2.bad{border-color:#c0302b}h2.measured{border-color:#d89b00}h2 small{font-weight:normal;color:#555}
table.figures{border-collapse:collapse;font-size:11px}table.figures td,table.figures th{border:1px solid #ccc;padding:2px 4px;text-align:right;white-space:nowrap}
table.figures td:first-child{text-align:left}tr.ok td:nth-child(3){color:#2a8a3a}tr.bad td:nth-child(3){color:#c0302b;font-weight:bold}tr.measured td:nth-child(3){color:#b07d00}
ul.checks{list-style:none;padding-left:0}ul.checks li.ok b{color:#2a8a3a}ul.checks li.bad b{color:#c0302b}ul.checks li.measured b{color:#b07d00}
.detail{color:#666;font-size:12px}ul.reasons{color:#c0302b}
rect.fault{fill:#d9534f;fill-opacity:.12;stroke:#d9534f;stroke-opacity:.4}text.faultlabel{font-size:10px;fill:#a33}
rect.acks{fill:#3c9a4e}path.publishes{fill:none;stroke:#555;stroke-width:1;stroke-dasharray:3 2}
rect.down{fill:#777;fill-opacity:.85}text.axis,text.lane{font-size:10px;fill:#555}line.phase{stroke:#888;stroke-dasharray:4 3}
.legend span{display:inline-block;padding:0 6px;margin-right:6px;font-size:12px}code{font-size:12px}`;

export function renderReport(reports: readonly AnyReport[], meta: ReportMeta): string {
  const valid = reports.filter((r) => r.verdict === 'valid').length;
  const legend = `<p class="legend">timeline: <span style="background:#3c9a4e;color:#fff">acks/s</span><span style="border-bottom:1px dashed #555">publishes/s</span><span style="background:#fbe3e2">fault window</span>${Object.entries(ROLE_COLOURS)
    .map(([role, colour]) => `<span style="background:${colour};color:${role === 'leader' ? '#fff' : '#222'}">${role}</span>`)
    .join('')}<span style="background:#777;color:#fff">down or not answering</span>; dashed lines: fault phase start and heal</p>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>tstan chaos run, seed ${meta.seed}</title><style>${STYLE}</style></head><body>
<h1>tstan chaos run</h1>
<p>seed <b>${meta.seed}</b> · ${escape(meta.startedAt)} · commit <code>${escape(meta.commit)}</code> · ${valid} of ${reports.length} valid · <code>${escape(meta.command)}</code></p>
${figuresTable(reports)}
${legend}
${reports.map(scenarioSection).join('\n')}
</body></html>
`;
}
