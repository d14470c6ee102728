// Proves that nothing reaches a subscriber before it is durable. The FILE store runs on a
// simulated disk whose fsyncs a gate can hold: a message is published while its fsync is held,
// a round trip through the server and the subscriber's connection shows whether it was
// delivered (it must not be), then power fails (losing the unsynced write) and the server
// restarts on what the disk kept. The next message takes the lost one's sequence; a durable
// subscriber must never see two payloads at one sequence (the bug: a delivery before the fsync,
// acknowledged by the subscriber, made it skip the acknowledged message stored there later).
import { afterAll, describe, expect, it } from 'vitest';
import { SimDisk } from '../../src/store/file/sim-disk.js';
import type { FileHandle, FileIo } from '../../src/store/file/io.js';
import { FileStore } from '../../src/store/file/file-store.js';
import { defaultStoreLimits } from '../../src/store/limits.js';
import { EmbeddedNatsServer } from '../../src/transport/nats/server.js';
import { StanServer } from '../../src/server/server.js';
import { silentLogger } from '../../src/util/logger.js';
import { stan, publish, subscribe, type StanClient, type StanMessage } from './harness.js';

/** A FileIo over the simulated disk whose file fsyncs wait while the gate is held. */
class SyncGate implements FileIo {
  private holding = false;
  private readonly held: Array<() => void> = [];
  private heldListeners: Array<() => void> = [];

  constructor(private readonly disk: SimDisk) {}

  hold(): void {
    this.holding = true;
  }

  /** Lets every held fsync go on (after a power failure they fail, as on a real disk). */
  release(): void {
    this.holding = false;
    for (const go of this.held.splice(0)) go();
  }

  /** Resolves once an fsync is being held. */
  whenHeld(): Promise<void> {
    if (this.held.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.heldListeners.push(resolve));
  }

  open(path: string, options: { create: boolean }): FileHandle {
    const handle = this.disk.open(path, options);
    return {
      ...handle,
      sync: () => {
        if (!this.holding) return handle.sync();
        return new Promise<void>((resolve, reject) => {
          this.held.push(() => {
            try {
              handle.sync().then(resolve, reject);
            } catch (error) {
              reject(error as Error);
            }
          });
          for (const listener of this.heldListeners.splice(0)) listener();
        });
      },
    };
  }

  exists = (path: string): boolean => this.disk.exists(path);
  mkdir = (path: string): void => this.disk.mkdir(path);
  readdir = (path: string): ReturnType<FileIo['readdir']> => this.disk.readdir(path);
  rename = (from: string, to: string): void => this.disk.rename(from, to);
  unlink = (path: string): void => this.disk.unlink(path);
  removeDir = (path: string): void => this.disk.removeDir(path);
  syncDir = (path: string): Promise<void> => this.disk.syncDir(path);
  lock = (path: string): ReturnType<FileIo['lock']> => this.disk.lock(path);
}

const logger = silentLogger();
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function startStan(nats: EmbeddedNatsServer, io: FileIo): Promise<StanServer> {
  const server = new StanServer(
    nats.connector(),
    async (settings) => new FileStore({ dir: '/data', io, limits: defaultStoreLimits(), ...settings, logger }),
    { skipServerProbe: true },
    logger,
  );
  return server.start().then(() => server);
}

function connect(url: string, clientId: string, opts: Record<string, unknown> = {}): Promise<StanClient> {
  const client = stan.connect('test-cluster', clientId, { url, ...opts });
  cleanups.push(() => client.nc.close());
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (err: Error) => reject(err));
  });
}

/** Everything the server sent the client before this call has reached the client's handlers. */
function roundTrip(server: StanServer, client: StanClient): Promise<void> {
  return new Promise<void>((resolve) => server.context!.send.flush(() => resolve())).then(
    () => new Promise<void>((resolve) => (client.nc as unknown as { flush(cb: () => void): void }).flush(() => resolve())),
  );
}

describe('durable before visible', () => {
  it('delivers nothing whose fsync is pending, so a sequence never shows two payloads across a power failure', async () => {
    const disk = new SimDisk();
    const gate = new SyncGate(disk);
    const nats = new EmbeddedNatsServer({ host: '127.0.0.1', port: -1 }, logger);
    await nats.start();
    cleanups.push(() => nats.shutdown());
    const url = `nats://127.0.0.1:${nats.port}`;
    const first = await startStan(nats, gate);

    const seen = new Map<number, Set<string>>();
    const subscriber = await connect(url, 'reader');
    const onMessage = (msg: StanMessage): void => {
      const payloads = seen.get(msg.getSequence()) ?? new Set<string>();
      payloads.add(String(msg.getData()));
      seen.set(msg.getSequence(), payloads);
      msg.ack();
    };
    const opts = subscriber.subscriptionOptions().setDurableName('d').setDeliverAllAvailable().setManualAckMode(true);
    await subscribe(subscriber, 'ch', opts, undefined, onMessage);
    const publisher = await connect(url, 'writer', { ackTimeout: 60_000 });
    await publish(publisher, 'ch', 'acked-1');
    await roundTrip(first, subscriber);
    expect([...(seen.get(1) ?? [])]).toEqual(['acked-1']);

    gate.hold();
    const lost = publish(publisher, 'ch', 'lost-2').then(
      () => 'acked',
      () => 'failed',
    );
    await gate.whenHeld();
    await roundTrip(first, subscriber);
    // Written, not yet fsynced: no subscriber may have it.
    expect(seen.has(2)).toBe(false);

    // Power fails before the fsync completes: the unsynced write is gone; the node is dead.
    disk.powerFail(() => 0);
    gate.release();
    await first.shutdown();

    const second = await startStan(nats, disk);
    cleanups.push(() => second.shutdown());
    await publish(publisher, 'ch', 'acked-2');
    await roundTrip(second, subscriber);
    for (const [seq, payloads] of seen) expect(payloads.size, `sequence ${seq}`).toBe(1);
    expect([...(seen.get(2) ?? [])]).toEqual(['acked-2']);
    // The lost publish was never acknowledged.
    const outcome = await Promise.race([lost, Promise.resolve('pending')]);
    expect(outcome).not.toBe('acked');
  });
});
