// A userspace TCP proxy for one directed link between two cluster nodes (docs/testing.md §5.2 A): node
// `from` dials `to`'s route port through it, so every byte between the two on that connection
// passes here and can be held up. Faults act on whole route frames (net/route-frames.ts), per
// direction: a blocked direction drops every message frame and passes control lines (INFO, PING,
// RS+...), so the route stays up and interest stays consistent while no message gets through — a
// one-way or two-way partition of the traffic; a lossy one drops a seeded fraction of message
// frames; a slow one holds each frame back by a delay with jitter, keeping order. A cut link
// destroys its connections and refuses new ones (the nodes redial until it is restored). Nothing
// is ever dropped mid-frame.
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Random } from '../random.js';
import { RouteFrameSplitter, type RouteFrame } from './route-frames.js';

export interface DirectionFault {
  /** Every message frame is dropped (control lines pass). */
  readonly blocked: boolean;
  /** Fraction of message frames dropped, seeded. */
  readonly dropProbability: number;
  readonly delayMs: number;
  readonly jitterMs: number;
}

export const passing: DirectionFault = Object.freeze({ blocked: false, dropProbability: 0, delayMs: 0, jitterMs: 0 });

/** `forward` is from→to (the dialler's bytes), `backward` to→from. */
export type Direction = 'forward' | 'backward';

export interface DirectionStats {
  frames: number;
  dropped: number;
  delayed: number;
  bytes: number;
}

const CONNECT_TIMEOUT_MS = 5_000;

/** One direction of one proxied connection: frames in, frames out after the fault's verdict. */
class Pipe {
  private readonly splitter = new RouteFrameSplitter();
  /** Frames held back, in arrival order, each with the time it may leave (never before the one ahead). */
  private readonly held: Array<{ releaseAtMs: number; bytes: Uint8Array }> = [];
  private timer: NodeJS.Timeout | undefined;
  private waitingForDrain = false;

  constructor(
    private readonly source: Socket,
    private readonly sink: Socket,
    private readonly fault: () => DirectionFault,
    private readonly random: Random,
    private readonly stats: DirectionStats,
  ) {
    source.on('data', (chunk: Buffer) => this.splitter.push(chunk, (frame) => this.onFrame(frame)));
  }

  private onFrame(frame: RouteFrame): void {
    const fault = this.fault();
    this.stats.frames++;
    if (frame.kind === 'message' && (fault.blocked || (fault.dropProbability > 0 && this.random.next() < fault.dropProbability))) {
      this.stats.dropped++;
      return;
    }
    if (fault.delayMs <= 0 && this.held.length === 0) {
      this.write(frame.bytes);
      return;
    }
    const jitter = fault.jitterMs > 0 ? (this.random.next() * 2 - 1) * fault.jitterMs : 0;
    const previous = this.held.at(-1)?.releaseAtMs ?? 0;
    this.held.push({ releaseAtMs: Math.max(previous, Date.now() + Math.max(0, fault.delayMs + jitter)), bytes: frame.bytes });
    this.stats.delayed++;
    this.schedule();
  }

  /** One timer for the frame at the head: timers of different lengths may fire out of order. */
  private schedule(): void {
    if (this.timer !== undefined || this.held.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const now = Date.now();
      while (this.held.length > 0 && this.held[0]!.releaseAtMs <= now) this.write(this.held.shift()!.bytes);
      this.schedule();
    }, Math.max(0, this.held[0]!.releaseAtMs - Date.now()));
  }

  private write(bytes: Uint8Array): void {
    if (this.sink.destroyed) return;
    this.stats.bytes += bytes.length;
    if (!this.sink.write(bytes) && !this.waitingForDrain) {
      this.waitingForDrain = true;
      this.source.pause();
      this.sink.once('drain', () => {
        this.waitingForDrain = false;
        this.source.resume();
      });
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.held.length = 0;
  }
}

export class LinkProxy {
  private server: Server | undefined;
  private listenPort = 0;
  private readonly connections = new Set<{ client: Socket; upstream: Socket; pipes: Pipe[] }>();
  private faults: Record<Direction, DirectionFault> = { forward: passing, backward: passing };
  private isCut = false;
  readonly stats = { accepted: 0, refused: 0, reset: 0, forward: { frames: 0, dropped: 0, delayed: 0, bytes: 0 }, backward: { frames: 0, dropped: 0, delayed: 0, bytes: 0 } };

  constructor(
    readonly from: string,
    readonly to: string,
    private readonly targetPort: number,
    private readonly random: Random,
  ) {}

  get port(): number {
    return this.listenPort;
  }

  get cut(): boolean {
    return this.isCut;
  }

  fault(direction: Direction): DirectionFault {
    return this.faults[direction];
  }

  async listen(): Promise<number> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    this.listenPort = typeof address === 'object' && address !== null ? address.port : 0;
    return this.listenPort;
  }

  setFault(direction: Direction, fault: DirectionFault): void {
    this.faults = { ...this.faults, [direction]: fault };
  }

  /** Destroys every connection and refuses new ones until restore(). */
  cutLink(): void {
    this.isCut = true;
    this.resetConnections();
  }

  restore(): void {
    this.isCut = false;
  }

  /** Destroys the connections (both nodes see them close and dial again, cleanly framed). */
  resetConnections(): void {
    for (const connection of this.connections) {
      this.stats.reset++;
      this.drop(connection);
    }
  }

  private accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.isCut) {
      this.stats.refused++;
      client.destroy();
      return;
    }
    this.stats.accepted++;
    client.pause();
    const upstream = connect({ host: '127.0.0.1', port: this.targetPort });
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    upstream.on('error', () => undefined);
    const connection = { client, upstream, pipes: [] as Pipe[] };
    this.connections.add(connection);
    const timer = setTimeout(() => this.drop(connection), CONNECT_TIMEOUT_MS);
    upstream.once('connect', () => {
      clearTimeout(timer);
      connection.pipes.push(
        new Pipe(client, upstream, () => this.faults.forward, this.random, this.stats.forward),
        new Pipe(upstream, client, () => this.faults.backward, this.random, this.stats.backward),
      );
      client.resume();
    });
    const close = () => {
      clearTimeout(timer);
      this.drop(connection);
    };
    client.once('close', close);
    upstream.once('close', close);
  }

  private drop(connection: { client: Socket; upstream: Socket; pipes: Pipe[] }): void {
    if (!this.connections.delete(connection)) return;
    for (const pipe of connection.pipes) pipe.stop();
    connection.client.destroy();
    connection.upstream.destroy();
  }

  async close(): Promise<void> {
    this.resetConnections();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export type { RouteFrame };
