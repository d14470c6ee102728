// Child process for the kill -9 test: opens the FILE store in argv[2], then publishes batches to
// channel `crash` forever. After each batch is durable (and the durable subscription's sent/ack
// records flushed), it prints `acked <first> <last>`: the parent may SIGKILL it at any moment.
// With argv[4] `encrypted` the store is wrapped for encryption at rest (key "testkey", AES).
import { writeSync } from 'node:fs';
import { pino } from 'pino';
import { FileStore } from '../../../../src/store/file/file-store.js';
import { defaultStoreLimits } from '../../../../src/store/limits.js';
import { emptyMsgProto, emptySubState } from '../../../../src/store/records.js';
import type { MsgProto, Store } from '../../../../src/store/types.js';
import { EncryptedStore } from '../../../../src/store/crypto/encrypted-store.js';
import { masterKeyOf } from '../../../../src/store/crypto/payload-cipher.js';

const dir = process.argv[2]!;
const batchSize = Number(process.argv[3] ?? '20');

export function payloadFor(seq: number): string {
  return `payload-${seq}-${'x'.repeat(seq % 50)}`;
}

async function main(): Promise<void> {
  const fileStore = new FileStore({
    dir,
    limits: defaultStoreLimits(),
    clock: { nowNs: () => BigInt(Date.now()) * 1_000_000n },
    logger: pino({ level: 'silent' }),
    file: { sliceMaxMsgs: 700, sliceMaxBytes: 0 },
  });
  const store: Store = process.argv[4] === 'encrypted' ? new EncryptedStore(fileStore, { cipher: 'AES', masterKey: masterKeyOf('testkey') }) : fileStore;
  const state = await store.recover();
  if (state === undefined) {
    await store.init({ clusterId: 'crash', discovery: '', publish: '', subscribe: '', unsubscribe: '', close: '', subClose: '', acksSubs: '', nodeId: '' });
  }
  const channel = await store.createChannel('crash');
  let durable = channel.subs.list().find((s) => s.sub.durableName === 'dur')?.sub;
  if (durable === undefined) {
    durable = { ...emptySubState(), clientId: 'me', inbox: 'in', ackInbox: 'ack', maxInFlight: 100000, ackWaitInSecs: 30, durableName: 'dur', isDurable: true };
    channel.subs.createSub(durable);
  }
  const subId = durable.id;
  // Whatever a previous run left pending was received: ack it, as a resuming client would.
  for (const seq of channel.subs.list().find((s) => s.sub.id === subId)?.pending ?? []) channel.subs.ackSeqPending(subId, seq);
  for (;;) {
    const first = channel.msgs.lastSequence() + 1;
    const batch: MsgProto[] = [];
    for (let i = 0; i < batchSize; i++) {
      const seq = first + i;
      batch.push({ ...emptyMsgProto(), subject: 'crash', data: Buffer.from(payloadFor(seq)), timestamp: BigInt(seq) });
    }
    const stored = channel.msgs.storeBatch(batch);
    // Deliver the batch to the durable and ack everything before it.
    for (let seq = stored.firstSeq; seq <= stored.lastSeq; seq++) channel.subs.addSeqPending(subId, seq);
    for (let seq = stored.firstSeq - batchSize; seq < stored.firstSeq; seq++) if (seq > 0) channel.subs.ackSeqPending(subId, seq);
    await Promise.all([stored.durable, channel.subs.flush()]);
    writeSync(1, `acked ${stored.firstSeq} ${stored.lastSeq}\n`);
  }
}

main().catch((error: unknown) => {
  writeSync(2, `crash-writer failed: ${String(error)}\n`);
  process.exit(1);
});
