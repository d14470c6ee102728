// A deliberately broken tstan, for showing that each chaos checker catches what it is there for:
// the chaos cluster runs this module instead of the CLI, and TSTAN_BROKEN names the defect, which
// is patched into the real server classes before the CLI starts. Test code only: no option of
// tstan turns any of this on.
// - ack-before-commit: a publish is answered as soon as it is proposed, not once committed;
// - diverge: the node named by TSTAN_BROKEN_NODE stores every 50th message with other content;
// - forget-hard-state: the Raft log never writes term, vote and commit (a node restarts at term 1);
// - none: the real server, through this entry.
import { RaftWriter } from '../../../src/cluster/raft-writer.js';
import { FileMsgStore } from '../../../src/store/file/msg-store.js';
import { LevelRaftStore } from '../../../src/store/raft/level-raft-store.js';
import { OK, type Op, type OpResult } from '../../../src/fsm/ops.js';
import type { MsgProto } from '../../../src/store/types.js';
import { main } from '../../../src/cli/main.js';

function ackBeforeCommit(): void {
  const submit = RaftWriter.prototype.submit;
  RaftWriter.prototype.submit = function (this: RaftWriter, ops: readonly Op[]): Promise<OpResult[]> {
    const real = submit.call(this, ops);
    if (ops.length === 0 || ops.some((op) => op.type !== 'publish')) return real;
    real.catch(() => undefined);
    return Promise.resolve(ops.map(() => OK));
  };
}

function diverge(): void {
  const storeBatch = FileMsgStore.prototype.storeBatch;
  FileMsgStore.prototype.storeBatch = function (this: FileMsgStore, msgs: MsgProto[]) {
    for (const msg of msgs) if (msg.sequence > 0 && msg.sequence % 50 === 0) msg.data = Buffer.from(`diverged-${msg.sequence}`);
    return storeBatch.call(this, msgs);
  };
}

function forgetHardState(): void {
  const write = LevelRaftStore.prototype.write;
  LevelRaftStore.prototype.write = function (this: LevelRaftStore, update, options) {
    const { hardState: _dropped, ...rest } = update;
    return write.call(this, rest, options);
  };
}

const argv = process.argv.slice(2);
const nodeId = argv[argv.indexOf('--cluster_node_id') + 1] ?? '';
switch (process.env['TSTAN_BROKEN']) {
  case 'ack-before-commit':
    ackBeforeCommit();
    break;
  case 'diverge':
    if (nodeId === process.env['TSTAN_BROKEN_NODE']) diverge();
    break;
  case 'forget-hard-state':
    forgetHardState();
    break;
  case 'none':
  case undefined:
    break;
  default:
    throw new Error(`unknown TSTAN_BROKEN ${process.env['TSTAN_BROKEN']}`);
}

main(argv).then(
  (code) => setImmediate(() => process.exit(code)),
  (error: unknown) => {
    process.stderr.write(`tstan (broken entry): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
