// The lean client's benchmark program: runs one workload in this process and prints one JSON line.
// node dist/bench/lean-bench.js --url nats://127.0.0.1:4222 --workload W1 --count 100000
// (the flags of bench/c/stan-bench.c; see client-result.ts).
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseClientArgs, resultProblems, type ClientArgs } from './client-result.js';
import { clientMain, type BenchConnection, type Connector } from './client-workloads.js';
import { LeanStanClient, type LeanPublisher } from './lean-stan-client.js';

/** The lean client behind the workloads' interface: publish numbers are the client's own. */
class LeanBenchConnection implements BenchConnection {
  private readonly publishers = new Map<string, LeanPublisher>();

  constructor(private readonly client: LeanStanClient) {}

  set onPubAck(handler: (publishNumber: number, error: string) => void) {
    this.client.onPubAck = handler;
  }

  set onError(handler: (error: Error) => void) {
    this.client.onError = handler;
  }

  publish(channel: string, payload: Buffer): number {
    let publisher = this.publishers.get(channel);
    if (publisher === undefined) {
      publisher = this.client.publisher(channel);
      this.publishers.set(channel, publisher);
    }
    return publisher.publish(payload);
  }

  subscribeAll(channel: string, onMessage: (seq: number, buf: Buffer, start: number, end: number, redelivered: boolean) => void): Promise<void> {
    return this.client.subscribe(channel, { deliverAllAvailable: true }, onMessage);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

export function leanConnector(args: ClientArgs): Connector {
  return async (clientId) =>
    new LeanBenchConnection(await LeanStanClient.connect({ url: args.url, clusterId: args.cluster, clientId, timeoutMs: 10_000 }));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = parseClientArgs(process.argv.slice(2));
  clientMain('lean-ts', args, leanConnector(args), (result) => resultProblems(result, args.count)).catch((error: unknown) => {
    process.stdout.write(JSON.stringify({ client: 'lean-ts', workload: args.workload, error: String(error) }) + '\n');
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
