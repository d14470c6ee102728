// The leadership hand-over at the level of two serving sessions over one replicated state (what
// the old and the new leader of a cluster hold once the new one has applied the log), on one
// embedded NATS server, with a node-nats-streaming publisher that keeps a window of publishes in
// flight the whole time:
// - the old session drains and parks what it receives, the new one starts taking over and holds
//   what it receives; the parked requests are passed on, then the held ones are served but for
//   those passed on too: every publish is acknowledged once, and stored in the order it was sent;
// - if the old session never passes anything on (it died), the new one serves what it holds
//   after its wait, in order, and what arrives from the old one after that is not answered.
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedNatsServer } from '../../src/transport/nats/server.js';
import type { NatsConnection } from '../../src/transport/nats/connection.js';
import { openMemoryStore } from '../../src/store/memory/memory-store.js';
import { defaultStoreLimits } from '../../src/store/limits.js';
import type { Store } from '../../src/store/types.js';
import { ReplicatedClock } from '../../src/fsm/context.js';
import { StanFsm } from '../../src/fsm/stan-fsm.js';
import { LocalWriter } from '../../src/fsm/writer.js';
import { ServingSession } from '../../src/server/session.js';
import { StanCodec } from '../../src/server/protocol.js';
import { stanServerOptions } from '../../src/server/options.js';
import { stanSubjects } from '../../src/server/subjects.js';
import { createSystemScheduler } from '../../src/server/scheduler.js';
import { silentLogger } from '../../src/util/logger.js';
import { stan, type StanClient, type StanMessage } from '../stan/harness.js';

const logger = silentLogger();
const TAKE_OVER = '_STAN.raft.test-cluster.handover.b';

interface Shared {
  readonly nats: EmbeddedNatsServer;
  readonly store: Store;
  readonly fsm: StanFsm;
  readonly writer: LocalWriter;
  readonly connections: NatsConnection[];
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function shared(): Promise<Shared> {
  const nats = new EmbeddedNatsServer({ host: '127.0.0.1', port: -1 }, logger);
  await nats.start();
  cleanups.push(() => nats.shutdown());
  const clock = new ReplicatedClock();
  const store = await openMemoryStore({ limits: defaultStoreLimits(), clock, logger, ageExpiry: 'caller' });
  const fsm = new StanFsm({ store, clock, persistRecords: false, logger });
  const writer = new LocalWriter(fsm, (error) => {
    throw error;
  });
  const connections: NatsConnection[] = [];
  cleanups.push(async () => {
    for (const connection of connections) await connection.close().catch(() => undefined);
  });
  return { nats, store, fsm, writer, connections };
}

/** One node's session over the shared state: its own NATS connections, as a cluster node has. */
async function session(s: Shared, name: string): Promise<ServingSession> {
  const connect = async (role: string): Promise<NatsConnection> => {
    const connection = await s.nats.connector().connect(`${name}-${role}`);
    s.connections.push(connection);
    return connection;
  };
  const [general, send, hb] = [await connect('general'), await connect('send'), await connect('hb')];
  const options = stanServerOptions({ drainAckGraceMs: 0 });
  const ackCoverPrefix = '_STAN.acks.test.';
  const created = new ServingSession({
    options,
    logger,
    scheduler: createSystemScheduler(),
    codec: new StanCodec(),
    subjects: stanSubjects(options.clusterId, options.discoverPrefix),
    store: s.store,
    fsm: s.fsm,
    writer: s.writer,
    connections: { general, send, hb },
    ackPrefix: `${ackCoverPrefix}${name}.`,
    ackCoverPrefix,
    onFatal: (error) => {
      throw error;
    },
  });
  cleanups.push(() => created.abandon());
  return created;
}

function connectClient(url: string, clientId: string, ackTimeout = 30_000): Promise<StanClient> {
  const client = stan.connect('test-cluster', clientId, { url, ackTimeout });
  cleanups.push(() => client.nc.close());
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (err: Error) => reject(err));
  });
}

/** Publishes `m-1`..`m-<total>` keeping `window` in flight; counts acks and errors. */
class WindowedPublisher {
  acked = 0;
  readonly failed: string[] = [];
  private next = 0;
  private inFlight = 0;
  private readonly waiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(
    private readonly client: StanClient,
    private total: number,
    private window: number,
  ) {
    this.pump();
  }

  /** Sends `count` more at once, beyond the window; resolves once the server has read them. */
  burst(count: number): Promise<void> {
    this.total += count;
    this.window += count;
    this.pump();
    const nc = this.client.nc as unknown as { flush(cb: () => void): void };
    return new Promise((resolve) => nc.flush(() => resolve()));
  }

  reached(count: number): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push({ count, resolve });
      this.wake();
    });
  }

  private pump(): void {
    while (this.inFlight < this.window && this.next < this.total) {
      const value = `m-${++this.next}`;
      this.inFlight++;
      this.client.publish('orders', value, (error) => {
        this.inFlight--;
        if (error) this.failed.push(`${value}: ${String(error)}`);
        else this.acked++;
        this.wake();
        this.pump();
      });
    }
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) {
      if (this.acked + this.failed.length >= waiter.count) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }
}

/** Reads the channel from the start: payload by sequence. */
async function readAll(url: string, count: number): Promise<string[]> {
  const reader = await connectClient(url, 'reader');
  const opts = reader.subscriptionOptions().setDeliverAllAvailable().setMaxInFlight(10_000);
  const bySeq: string[] = [];
  await new Promise<void>((resolve) => {
    const sub = reader.subscribe('orders', opts);
    sub.on('message', (msg: StanMessage) => {
      bySeq[msg.getSequence() - 1] = String(msg.getData());
      if (Object.keys(bySeq).length === count) resolve();
    });
  });
  return bySeq;
}

function numbers(values: readonly string[]): number[] {
  return values.map((value) => Number(value.slice(2)));
}

describe('serving session take-over (leadership hand-over)', () => {
  it('serves the old session’s parked requests first and skips their copies: every publish acknowledged once, stored in the order sent', async () => {
    const s = await shared();
    const url = `nats://127.0.0.1:${s.nats.port}`;
    const a = await session(s, 'a');
    await a.start();
    const client = await connectClient(url, 'publisher');
    const publisher = new WindowedPublisher(client, 3_000, 128);
    await publisher.reached(1_500);

    // Publishes keep arriving at the old session, parked, before the new one subscribes...
    await a.drain({ handover: true });
    const b = await session(s, 'b');
    await b.start({ subject: TAKE_OVER, waitMs: 30_000 });
    // ...and at both while both subscribe: the new one holds them until the old one lets go.
    await publisher.burst(200);
    const passedOn = await a.releaseParked(TAKE_OVER, 5_000);
    const total = 3_200;
    await publisher.reached(total);

    expect(publisher.failed).toEqual([]);
    expect(publisher.acked).toBe(total);
    expect(passedOn.requests).toBeGreaterThanOrEqual(200);
    const stored = await readAll(url, total);
    expect(numbers(stored)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    // The burst reached both sessions and was stored once.
    expect(s.store.lookupChannel('orders')!.msgs.lastSequence()).toBe(total);
  }, 60_000);

  it('without the old session’s requests, serves what it holds after its wait, in order, and answers nothing passed on later', async () => {
    const s = await shared();
    const url = `nats://127.0.0.1:${s.nats.port}`;
    const a = await session(s, 'a');
    await a.start();
    const client = await connectClient(url, 'publisher', 1_000);
    const publisher = new WindowedPublisher(client, 1_000, 32);
    await publisher.reached(500);

    await a.drain({ handover: true });
    // Parked by the old session only: it never passes them on (it died), they time out.
    await publisher.burst(50);
    const b = await session(s, 'b');
    await b.start({ subject: TAKE_OVER, waitMs: 200 });
    // Held by the new session until its wait ends, then served.
    await publisher.burst(100);
    await publisher.reached(1_150);
    // The old session's parked publishes timed out at the client; passed on now, too late, they
    // are not served.
    const late = await a.releaseParked(TAKE_OVER, 0);
    expect(late.requests).toBeGreaterThan(0);
    await new Promise<void>((resolve) => b.ctx.general.flush(() => resolve()));

    expect(publisher.failed.length).toBeGreaterThanOrEqual(50);
    expect(publisher.acked + publisher.failed.length).toBe(1_150);
    const stored = await readAll(url, publisher.acked);
    const order = numbers(stored);
    expect(order).toHaveLength(publisher.acked);
    expect([...order].sort((x, y) => x - y)).toEqual(order);
    const failed = new Set(publisher.failed.map((line) => Number(line.slice(2, line.indexOf(':')))));
    expect(order.filter((n) => failed.has(n))).toEqual([]);
    expect(s.store.lookupChannel('orders')!.msgs.lastSequence()).toBe(publisher.acked);
  }, 60_000);
});
