// What a node whose files were damaged on purpose did before it had caught up again (docs/testing.md
// §5.6, scenarios 16 and 17): a node that lost entries it had acknowledged must not vote or lead
// until it holds everything committed when it was damaged — a vote from a log that lost its tail
// can elect a leader missing a committed entry. Read from the traces: after the node's first start
// following the damage, any vote it persisted for another node in a new term, or any term it led,
// before its applied index reached the highest index applied anywhere before the damage.
import type { FaultEvent } from '../faults.js';
import type { TraceEvent } from './trace.js';

export function actedBeforeCatchUp(traces: readonly TraceEvent[], faults: readonly FaultEvent[], damageKinds: RegExp): string[] {
  const findings: string[] = [];
  for (const fault of faults.filter((f) => damageKinds.test(f.kind))) {
    let committed = 0;
    for (const e of traces) {
      if (e.tNs >= fault.startNs) break;
      if (e.type === 'applied') for (const [index] of e.entries) committed = Math.max(committed, index);
    }
    const mine = traces.filter((e) => e.node === fault.node && e.tNs > fault.startNs);
    const startAt = mine.findIndex((e) => e.type === 'start');
    if (startAt < 0) continue;
    const start = mine[startAt]!;
    if (start.type !== 'start' || start.rejoining) continue;
    for (const e of mine.slice(startAt + 1)) {
      if (e.type === 'start') break;
      if (e.type === 'applied' && e.entries.some(([index]) => index >= committed)) break;
      if (e.type === 'persisted' && e.hardState !== undefined && e.hardState.vote !== '' && e.hardState.vote !== fault.node && e.hardState.term > start.hardState.term) {
        findings.push(`${fault.node} voted for ${e.hardState.vote} in term ${e.hardState.term} after ${fault.kind}, before catching up to index ${committed}`);
      }
      if (e.type === 'lead') findings.push(`${fault.node} led term ${e.term} after ${fault.kind}, before catching up to index ${committed}`);
    }
  }
  return findings;
}
