// Test hooks on a node: a gate that holds its storage writes until released, and a transport
// that records what the node sends and receives. Together they show what leaves a node while
// its own write is (or is not yet) durable.
import type { Message } from '../../../src/raft/messages.js';
import type { PersistRequest } from '../../../src/raft/storage.js';
import type { DurableRaftStorage } from '../../../src/store/raft/durable-storage.js';
import type { RaftMessageHandler, RaftTransport } from '../../../src/raft/transport.js';

export class PersistGate {
  readonly held: PersistRequest[] = [];
  private closed = false;
  private waiting: Array<() => void> = [];

  constructor(private readonly notify: () => void) {}

  /** Routes `storage.persist` through this gate. */
  install(storage: DurableRaftStorage): void {
    const original = storage.persist.bind(storage);
    storage.persist = async (request: PersistRequest): Promise<void> => {
      if (this.closed) {
        this.held.push(request);
        this.notify();
        await new Promise<void>((resolve) => this.waiting.push(resolve));
      }
      return original(request);
    };
  }

  close(): void {
    this.closed = true;
  }

  open(): void {
    this.closed = false;
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }

  /** Whether a held write carries the entry at `index`. */
  holdsEntry(index: number): boolean {
    return this.held.some((request) => request.entries.some((entry) => entry.index === index));
  }
}

export class SpyTransport implements RaftTransport<Message> {
  readonly sent: Message[] = [];
  readonly received: Message[] = [];

  constructor(
    private readonly inner: RaftTransport<Message>,
    private readonly notify: () => void,
  ) {}

  get localId(): string {
    return this.inner.localId;
  }

  send(to: string, message: Message): void {
    this.sent.push(message);
    this.inner.send(to, message);
    this.notify();
  }

  onMessage(handler: RaftMessageHandler<Message>): void {
    this.inner.onMessage((message, from) => {
      handler(message, from);
      this.received.push(message);
      this.notify();
    });
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
