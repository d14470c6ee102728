// Test hooks for the chaos harness (test/jepsen-like), off unless their environment variable
// names a file; nothing here runs in a normal start. Each writes NDJSON synchronously, so a line
// is in the file before the node goes on (a vote or an acknowledgement depending on a fsync
// leaves after its report), and stamps it with the system's monotonic clock, which the harness
// shares.
// - TSTAN_RAFT_TRACE=<file>: the Raft driver's trace events (src/raft/trace.ts), entries as
//   [index, term, hash of the data], to check one leader per term, log matching and that term,
//   vote and commit never go back.
// - TSTAN_FSYNC_LOG=<file>: each completed fsync as (file, length), each rename, and after each
//   synced Raft log write the lengths of LevelDB's write-ahead logs (LevelDB writes bypass our
//   file interface), so a simulated power failure can cut files back to what was durable.
import { closeSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Entry } from '../raft/types.js';
import type { RaftTraceEvent, RaftTraceSink } from '../raft/trace.js';
import type { DurabilityReporter } from '../store/durability.js';

export interface TestHooks {
  readonly raftTrace?: RaftTraceSink;
  readonly durability?: DurabilityReporter;
  close(): void;
}

class NdjsonFile {
  private fd: number;

  constructor(path: string) {
    this.fd = openSync(path, 'a');
  }

  write(fields: Record<string, unknown>): void {
    if (this.fd < 0) return;
    writeSync(this.fd, `${JSON.stringify({ ns: String(process.hrtime.bigint()), pid: process.pid, ...fields })}\n`);
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}

const entryFacts = (entries: readonly Entry[]) =>
  entries.map((entry) => [entry.index, entry.term, createHash('sha1').update(entry.data).update(Uint8Array.of(entry.type)).digest('base64url').slice(0, 12)]);

function traceFields(event: RaftTraceEvent): Record<string, unknown> {
  switch (event.type) {
    case 'persisted':
      return { type: 'persisted', mustSync: event.mustSync, hardState: event.hardState, entries: entryFacts(event.entries), snapshot: event.snapshot };
    case 'applied':
      return { type: 'applied', entries: entryFacts(event.entries) };
    case 'start':
      return { ...event, uncommitted: entryFacts(event.uncommitted) };
    default:
      return { ...event };
  }
}

function levelDbLogLengths(directory: string): Record<string, number> {
  const lengths: Record<string, number> = {};
  for (const name of readdirSync(directory)) {
    if (name.endsWith('.log')) lengths[name] = statSync(join(directory, name)).size;
  }
  return lengths;
}

/** The hooks the environment asks for; `node` names this node in the trace. */
export function testHooksFromEnv(env: NodeJS.ProcessEnv, node: string): TestHooks {
  const files: NdjsonFile[] = [];
  let raftTrace: RaftTraceSink | undefined;
  let durability: DurabilityReporter | undefined;
  const tracePath = env['TSTAN_RAFT_TRACE'];
  if (tracePath) {
    const file = new NdjsonFile(tracePath);
    files.push(file);
    raftTrace = { record: (event) => file.write({ node, ...traceFields(event) }) };
  }
  const fsyncPath = env['TSTAN_FSYNC_LOG'];
  if (fsyncPath) {
    const file = new NdjsonFile(fsyncPath);
    files.push(file);
    durability = {
      synced: (path, length) => file.write({ synced: resolve(path), length }),
      syncedLevelDb: (directory) => file.write({ levelDb: resolve(directory), logs: levelDbLogLengths(directory) }),
      renamed: (from, to) => file.write({ renamed: resolve(from), to: resolve(to) }),
    };
  }
  return {
    ...(raftTrace !== undefined ? { raftTrace } : {}),
    ...(durability !== undefined ? { durability } : {}),
    close: () => files.forEach((file) => file.close()),
  };
}
