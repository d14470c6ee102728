// The published node-nats-streaming client's benchmark program: one workload in this process,
// one JSON line, the same flags and result as bench/c/stan-bench.c and bench/lean-bench.ts.
// Kept beside the fast clients because it is what most users run; it saturates first.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseClientArgs, resultProblems, type ClientArgs } from './client-result.js';
import { clientMain, type BenchConnection, type Connector } from './client-workloads.js';

const require = createRequire(import.meta.url);

interface StanMsg {
  getSequence(): number;
  getRawData(): Buffer;
  isRedelivered(): boolean;
}
interface StanSub {
  on(event: 'message', cb: (msg: StanMsg) => void): void;
  once(event: string, cb: (...args: unknown[]) => void): void;
}
interface StanConn {
  once(event: string, cb: (...args: unknown[]) => void): void;
  on(event: string, cb: (...args: unknown[]) => void): void;
  publish(channel: string, data: Buffer, cb: (err: Error | undefined) => void): void;
  subscribe(channel: string, opts: unknown): StanSub;
  subscriptionOptions(): { setDeliverAllAvailable(): unknown };
  close(): void;
}
const stan = require('node-nats-streaming') as { connect(cid: string, id: string, opts: object): StanConn };

class NodeBenchConnection implements BenchConnection {
  onPubAck: (publishNumber: number, error: string) => void = () => {};
  onError: (error: Error) => void = () => {};
  private published = 0;

  constructor(private readonly conn: StanConn) {
    conn.on('error', (error) => this.onError(error instanceof Error ? error : new Error(String(error))));
  }

  publish(channel: string, payload: Buffer): number {
    const publishNumber = this.published++;
    // A copy per message, as an application would hand over its own buffer.
    this.conn.publish(channel, Buffer.from(payload), (err) => this.onPubAck(publishNumber, err ? err.message : ''));
    return publishNumber;
  }

  subscribeAll(channel: string, onMessage: (seq: number, buf: Buffer, start: number, end: number, redelivered: boolean) => void): Promise<void> {
    const sub = this.conn.subscribe(channel, this.conn.subscriptionOptions().setDeliverAllAvailable());
    // The listener goes on before the server answers: the backlog may arrive first.
    sub.on('message', (msg) => {
      const data = msg.getRawData();
      onMessage(msg.getSequence(), data, 0, data.length, msg.isRedelivered());
    });
    return new Promise((resolve, reject) => {
      sub.once('ready', () => resolve());
      sub.once('error', (err) => reject(err instanceof Error ? err : new Error(String(err))));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.conn.once('close', () => resolve());
      this.conn.close();
    });
  }
}

export function nodeConnector(args: ClientArgs): Connector {
  return (clientId) =>
    new Promise((resolve, reject) => {
      // One more than the window, so that the library never holds a publish back itself.
      const conn = stan.connect(args.cluster, clientId, { url: args.url, maxPubAcksInflight: args.window + 1 });
      conn.once('connect', () => resolve(new NodeBenchConnection(conn)));
      conn.once('error', (err) => reject(err instanceof Error ? err : new Error(String(err))));
    });
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = parseClientArgs(process.argv.slice(2));
  clientMain('node-nats-streaming', args, nodeConnector(args), (result) => resultProblems(result, args.count)).then(
    // node-nats-streaming leaves timers behind after close: leave once the line is out.
    () => process.exit(),
    (error: unknown) => {
      process.stdout.write(JSON.stringify({ client: 'node-nats-streaming', workload: args.workload, error: String(error) }) + '\n');
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
